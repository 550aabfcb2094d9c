import { ApiError, type Success, TypedClient } from './client.js';

// Uses a few routes through the generated types only. Compiled by `npm run typecheck` and by the
// e2e test openapi-clients (which also runs it against the service): a response typed `never` or
// `any` (no schema in the spec) fails to compile here.

/** false for `any` and `never`: a response the spec leaves untyped. */
type Typed<T> = 0 extends 1 & T ? false : [T] extends [never] ? false : true;
const typed = <T>(proof: Typed<T>) => proof;

export const TYPED_ROUTES = [
  typed<Success<'/api/v1/events', 'post'>>(true),
  typed<Success<'/api/v1/jobs', 'post'>>(true),
  typed<Success<'/api/v1/jobs', 'get'>>(true),
  typed<Success<'/api/v1/jobs/{job_id}', 'get'>>(true),
  typed<Success<'/api/v1/job-manager/completed-jobs', 'get'>>(true),
  typed<Success<'/api/v1/job-manager/queued-to-completion-durations', 'get'>>(true),
  typed<Success<'/api/v1/job-manager/jobs/{job_id}', 'get'>>(true),
  typed<Success<'/api/v1/tokens/self', 'get'>>(true),
];

export interface Observed {
  accepted: number;
  created: string;
  listed: string[];
  nextCursor: string | null;
  timeline: string[];
  completed: { jobIds: string[]; nextOffset: number | null };
  durations: string[];
  whereabouts: string;
  tokenName: string;
  notFound: { status: number; code: string; message: string };
}

/** Reports a job through the batch and seed routes, then reads it back through four others. */
export async function exercise(client: TypedClient, jid: string, jobClass: string) {
  const batch = await client.request('post', '/api/v1/events', {
    body: {
      events: [
        {
          type: 'queued',
          job_id: jid,
          job_class: jobClass,
          queue: 'default',
          arguments: '[1]',
          occurred_at: '2026-01-01T00:00:00Z',
        },
        { type: 'started', job_id: jid, occurred_at: '2026-01-01T00:00:01Z' },
      ],
    },
  });
  const accepted: number = batch.accepted;
  const done = await client.request('post', '/api/v1/jobs/{job_id}/complete', {
    path: { job_id: jid },
    body: { type: 'succeeded', occurred_at: '2026-01-01T00:00:03Z' },
  });
  const created: string = done.job_id;

  const page = await client.request('get', '/api/v1/jobs', {
    query: { job_class: jobClass, limit: 10 },
  });
  const listed: string[] = page.jobs.map((job) => job.job_id);
  const nextCursor: string | null = page.next_cursor;

  const detail = await client.request('get', '/api/v1/jobs/{job_id}', { path: { job_id: jid } });
  const timeline: string[] = detail.events.map((event) => event.type);

  const completed = await client.request('get', '/api/v1/job-manager/completed-jobs', {
    query: { filter: '[1]', limit: 5 },
  });
  const nextOffset: number | null = completed.next_offset;

  const durations = await client.request(
    'get',
    '/api/v1/job-manager/queued-to-completion-durations',
    { query: { limit: 5 } },
  );
  const found = await client.request('get', '/api/v1/job-manager/jobs/{job_id}', {
    path: { job_id: jid },
  });
  const self = await client.request('get', '/api/v1/tokens/self');

  let notFound: Observed['notFound'] = { status: 0, code: '', message: '' };
  try {
    await client.request('get', '/api/v1/jobs/{job_id}', { path: { job_id: `${jid}x` } });
  } catch (error) {
    if (!(error instanceof ApiError)) {
      throw error;
    }
    const failure = error as ApiError<'/api/v1/jobs/{job_id}', 'get'>;
    const code: string = failure.body.code;
    notFound = { status: failure.status, code, message: failure.body.message };
  }

  return {
    accepted,
    created,
    listed,
    nextCursor,
    timeline,
    completed: { jobIds: completed.jobs.map((job) => job.job_id), nextOffset },
    durations: durations.durations.map((row) => `${row.job_id} ${row.duration}`),
    whereabouts: found.sidekiq.where,
    tokenName: self.name,
    notFound,
  } satisfies Observed;
}
