import { readFileSync } from 'node:fs';
import { MikroORM, RequestContext } from '@mikro-orm/postgresql';
import { ormOptions } from '../../../ormconfig.js';
import { unwrapActiveJob } from '../../../src/jobs/active-job.js';
import { type FoldEvent, foldJob } from '../../../src/jobs/fold/job-fold.js';
import { MAX_NAME_BYTES } from '../../../src/jobs/ingest/event-parser.js';
import { DEDUPE_KEY_SQL } from '../../../src/jobs/ingest/statements.js';
import { JobMetricsService, type JobWindowRow } from '../../../src/jobs/job-metrics.service.js';
import { JobEventType } from '../../../src/jobs/job-lifecycle.enum.js';
import { JobsService } from '../../../src/jobs/jobs.service.js';
import { partitionName, utcDay } from '../../../src/jobs/storage/partition-sql.js';
import { TestApp, TestDatabase } from '../../support/test-context.js';

// Migration20261204000000 (lean storage) on a database the earlier migrations made and the old
// writer filled: the history is built in the old tables by SQL, as that writer stored it (events
// with their job's identity and a stored dedupe key, job rows folded from them, updated_at the
// time of the last write), the old answers are read from the old tables, the database is
// migrated, and the service must give the same answers back and go on ingesting.

const BEFORE = 'Migration20261125210000';
const NOW = Date.now();
const MINUTE = 60_000;
const WRAPPER = 'ActiveJob::QueueAdapters::SidekiqAdapter::JobWrapper';

// a job hash as Rails 6.1 + Sidekiq 6.4.1 pushed it (test/fixtures/active-job)
const ACTIVE_JOB_PAYLOAD = readFileSync(
  new URL('../../fixtures/active-job/rails-6.1-sidekiq-6.4.1.jsonl', import.meta.url),
  'utf8',
).split('\n')[0];
const ACTIVE_JOB = unwrapActiveJob(
  WRAPPER,
  ACTIVE_JOB_PAYLOAD.slice(
    ACTIVE_JOB_PAYLOAD.indexOf('"args":') + '"args":'.length,
    ACTIVE_JOB_PAYLOAD.indexOf(',"jid":'),
  ),
  ACTIVE_JOB_PAYLOAD,
  MAX_NAME_BYTES,
)!;
const ACTIVE_JOB_ID = ACTIVE_JOB.activeJobId!;

/** A stored event of the old job_events table; times are microsecond ISO strings. */
interface OldEvent {
  type: JobEventType;
  /** the client's time, or the server's when clientTime is false */
  occurredAt: string;
  clientTime: boolean;
  receivedAt: string;
  attempt: number;
  retryCount?: number;
  jobClass?: string;
  queue?: string;
  arguments?: string;
  payload?: string;
  wrapperClass?: string;
  rawArguments?: string;
  activeJobId?: string;
  enqueuedAt?: string;
  createdAt?: string;
  hostname?: string;
  pid?: number;
  tid?: string;
  errorClass?: string;
  errorMessage?: string;
  errorBacktrace?: string[];
  willRetry?: boolean;
  durationMs?: number;
}

interface OldJob {
  instance: string;
  jid: string;
  events: OldEvent[];
}

/** `ms` since the epoch plus `us` microseconds, as the parser writes times. */
function microIso(ms: number, us = 0): string {
  return `${new Date(ms).toISOString().slice(0, 23)}${String(us).padStart(3, '0')}Z`;
}

function toUs(iso: string): number {
  return Date.parse(`${iso.slice(0, 23)}Z`) * 1000 + Number(iso.slice(23, 26));
}

function fromUs(us: number | null): string | null {
  return us === null ? null : microIso(Math.floor(us / 1000), us % 1000);
}

/** An event `minutesAgo` before the test started, received 40.5 ms after it occurred. */
function event(
  type: JobEventType,
  minutesAgo: number,
  fields: Omit<OldEvent, 'type' | 'occurredAt' | 'clientTime' | 'receivedAt' | 'attempt'> & {
    attempt?: number;
    clientTime?: boolean;
  } = {},
): OldEvent {
  const at = NOW - minutesAgo * MINUTE;
  const { attempt = 0, clientTime = true, ...rest } = fields;
  const received = microIso(at + 40, 500);
  return {
    type,
    // without a client time the parser stood in the server's clock
    occurredAt: clientTime ? microIso(at, 123) : received,
    clientTime,
    receivedAt: received,
    attempt,
    ...rest,
  };
}

/** The dedupe key as the old parser made it and stored it. */
const dedupeKey = (e: OldEvent) => `${e.type}|${e.attempt}|${e.clientTime ? e.occurredAt : '-'}`;

function toFold(e: OldEvent): FoldEvent {
  return {
    type: e.type,
    dedupeKey: dedupeKey(e),
    occurredUs: toUs(e.occurredAt),
    attempt: e.attempt,
    jobClass: e.jobClass ?? null,
    queue: e.queue ?? null,
    arguments: e.arguments ?? null,
    wrapperClass: e.wrapperClass ?? null,
    rawArguments: e.rawArguments ?? null,
    activeJobId: e.activeJobId ?? null,
    hasPayload: e.payload !== undefined,
    createdUs: e.createdAt ? toUs(e.createdAt) : null,
    scheduledUs: null,
    hostname: e.hostname ?? null,
    pid: e.pid ?? null,
    tid: e.tid ?? null,
    errorClass: e.errorClass ?? null,
    errorMessage: e.errorMessage ?? null,
    errorBacktrace: e.errorBacktrace ?? null,
    willRetry: e.willRetry ?? null,
    durationMs: e.durationMs ?? null,
    restartedAs: null,
    restartedFrom: null,
  };
}

function payloadOf(
  jid: string,
  klass: string,
  queue: string,
  argsText: string,
  extra = '',
): string {
  return `{"retry":true,"queue":"${queue}","class":"${klass}",${extra}"args":${argsText},"jid":"${jid}","created_at":1796408740.0887716,"enqueued_at":1796408740.0889}`;
}

const worker = { hostname: 'web-1', pid: 4242, tid: 'ovx7' };

function finished(
  instance: string,
  jid: string,
  jobClass: string,
  queue: string,
  args: string,
  minutesAgo: number,
  runMs: number,
  durationMs: number | undefined,
): OldJob {
  const identity = { jobClass, queue };
  return {
    instance,
    jid,
    events: [
      event(JobEventType.Queued, minutesAgo, {
        ...identity,
        arguments: args,
        payload: payloadOf(jid, jobClass, queue, args),
        enqueuedAt: microIso(NOW - minutesAgo * MINUTE, 123),
        createdAt: microIso(NOW - minutesAgo * MINUTE - 5, 0),
      }),
      event(JobEventType.Started, minutesAgo - 0.5, { ...identity, ...worker }),
      event(JobEventType.Succeeded, minutesAgo - 0.5 - runMs / MINUTE, {
        ...identity,
        ...worker,
        durationMs,
      }),
    ],
  };
}

const failure = (attempt: number) => ({
  errorClass: 'Net::ReadTimeout',
  errorMessage: `upstream timed out (try ${attempt})`,
  errorBacktrace: [
    `app/jobs/flaky_job.rb:${10 + attempt}:in 'perform'`,
    'sidekiq/processor.rb:202',
  ],
});

const flaky = { jobClass: 'FlakyJob', queue: 'low' };
const FLAKY_ARGS = '["gamma-needle",{"x":1}]';
const report = { jobClass: 'ReportJob', queue: 'reports' };
const mailer = { jobClass: 'MailerJob', queue: 'mailers' };
const slow = { jobClass: 'SlowJob', queue: 'default' };
const activeJob = {
  jobClass: ACTIVE_JOB.jobClass,
  queue: 'default',
  wrapperClass: ACTIVE_JOB.wrapperClass,
  activeJobId: ACTIVE_JOB_ID,
};

const JOBS: OldJob[] = [
  // finished jobs of one class and queue: the percentiles have several runs to work on, one
  // without duration_ms (run time from started to completed); one payload has characters outside
  // the Basic Multilingual Plane before its args (the cut counts code points)
  finished('default', 'jid-ok-1', 'HardJob', 'default', '[1,"alpha-needle"]', 50, 1_500, 1_500),
  finished('default', 'jid-ok-2', 'HardJob', 'default', '[2,"beta"]', 45, 2_250, undefined),
  {
    instance: 'default',
    jid: 'jid-ok-3',
    events: [
      event(JobEventType.Queued, 40, {
        jobClass: 'HardJob',
        queue: 'default',
        arguments: '[3,"caf\u00e9 \u{1F680}"]',
        payload: payloadOf(
          'jid-ok-3',
          'HardJob',
          'default',
          '[3,"caf\u00e9 \u{1F680}"]',
          '"note":"\u{1F680} needle in the payload only",',
        ),
      }),
      event(JobEventType.Started, 39.5, { jobClass: 'HardJob', queue: 'default', ...worker }),
      // a client that sent no time: the server's clock, one event per type and run
      event(JobEventType.Succeeded, 39, {
        jobClass: 'HardJob',
        queue: 'default',
        ...worker,
        durationMs: 30_000,
        clientTime: false,
      }),
    ],
  },
  // retried, then dead
  {
    instance: 'default',
    jid: 'jid-dead',
    events: [
      event(JobEventType.Queued, 35, {
        ...flaky,
        arguments: FLAKY_ARGS,
        payload: payloadOf('jid-dead', 'FlakyJob', 'low', FLAKY_ARGS),
      }),
      event(JobEventType.Started, 34, { ...flaky, ...worker }),
      event(JobEventType.Failed, 33, {
        ...flaky,
        ...worker,
        ...failure(0),
        willRetry: true,
        durationMs: 60_000,
      }),
      event(JobEventType.Retrying, 33, { ...flaky, ...failure(0), retryCount: 0 }),
      event(JobEventType.Started, 20, { ...flaky, ...worker, retryCount: 0, attempt: 1 }),
      event(JobEventType.Failed, 19, {
        ...flaky,
        ...worker,
        ...failure(1),
        willRetry: false,
        durationMs: 60_000,
        retryCount: 0,
        attempt: 1,
      }),
      event(JobEventType.Dead, 19, { ...flaky, ...failure(1), retryCount: 1, attempt: 1 }),
    ],
  },
  // another instance; the payload's args are written otherwise than the arguments: kept whole
  {
    instance: 'other',
    jid: 'jid-spaced',
    events: [
      event(JobEventType.Queued, 30, {
        ...report,
        arguments: '[1,2]',
        payload: payloadOf('jid-spaced', 'ReportJob', 'reports', '[1, 2]'),
      }),
      event(JobEventType.Started, 29, { ...report, arguments: '[1,2]', ...worker }),
      event(JobEventType.Succeeded, 28, {
        ...report,
        arguments: '[1,2]',
        ...worker,
        durationMs: 60_000,
      }),
    ],
  },
  // an Active Job: the real class and arguments, the wrapper's beside them
  {
    instance: 'default',
    jid: 'jid-active-job',
    events: [
      event(JobEventType.Queued, 25, {
        ...activeJob,
        arguments: ACTIVE_JOB.arguments,
        rawArguments: ACTIVE_JOB.rawArguments,
        payload: ACTIVE_JOB_PAYLOAD,
      }),
      event(JobEventType.Started, 24.5, { ...activeJob, ...worker }),
      event(JobEventType.Succeeded, 24, { ...activeJob, ...worker, durationMs: 30_000 }),
    ],
  },
  // queued only
  {
    instance: 'default',
    jid: 'jid-queued',
    events: [
      event(JobEventType.Queued, 10, {
        ...mailer,
        arguments: '["delta-needle"]',
        payload: payloadOf('jid-queued', 'MailerJob', 'mailers', '["delta-needle"]'),
      }),
    ],
  },
  // queued three days ago, run today: its events are received on two days
  {
    instance: 'default',
    jid: 'jid-two-days',
    events: [
      event(JobEventType.Queued, 3 * 1_440 + 5, {
        ...slow,
        arguments: '[]',
        payload: payloadOf('jid-two-days', 'SlowJob', 'default', '[]'),
      }),
      event(JobEventType.Started, 8, { ...slow, ...worker }),
      event(JobEventType.Succeeded, 5, { ...slow, ...worker, durationMs: 180_000 }),
    ],
  },
];

const EVENT_COLUMNS = [
  'instance',
  'jid',
  'type',
  'dedupe_key',
  'occurred_at',
  'client_time',
  'received_at',
  'attempt',
  'retry_count',
  'job_class',
  'queue',
  'arguments',
  'payload',
  'wrapper_class',
  'raw_arguments',
  'active_job_id',
  'enqueued_at',
  'created_at',
  'hostname',
  'pid',
  'tid',
  'error_class',
  'error_message',
  'error_backtrace',
  'will_retry',
  'duration_ms',
];

/** The old writer's job row: the fold of the job's events, the payload of the event it names. */
function oldJobRow(job: OldJob): unknown[] {
  const f = foldJob(job.events.map(toFold));
  const payload = job.events.find((e) => dedupeKey(e) === f.payloadFrom)?.payload ?? null;
  const lastReceived = job.events.map((e) => e.receivedAt).sort()[job.events.length - 1];
  return [
    job.instance,
    job.jid,
    f.jobClass,
    f.queue,
    f.arguments,
    payload,
    f.wrapperClass,
    f.rawArguments,
    f.activeJobId,
    f.status,
    f.attempt,
    fromUs(f.createdUs),
    fromUs(f.enqueuedUs),
    fromUs(f.scheduledUs),
    fromUs(f.startedUs),
    fromUs(f.completedUs),
    fromUs(f.failedUs),
    f.hostname,
    f.pid,
    f.tid,
    f.errorClass,
    f.errorMessage,
    f.errorBacktrace === null ? null : JSON.stringify(f.errorBacktrace),
    f.willRetry,
    f.durationMs,
    f.eventCount,
    fromUs(f.firstUs),
    fromUs(f.lastUs),
    // events and row were written in one transaction: now() of the last write
    lastReceived,
  ];
}

const JOB_COLUMNS = [
  'instance',
  'jid',
  'job_class',
  'queue',
  'arguments',
  'payload',
  'wrapper_class',
  'raw_arguments',
  'active_job_id',
  'status',
  'attempt',
  'created_at',
  'enqueued_at',
  'scheduled_at',
  'started_at',
  'completed_at',
  'failed_at',
  'hostname',
  'pid',
  'tid',
  'error_class',
  'error_message',
  'error_backtrace',
  'will_retry',
  'duration_ms',
  'event_count',
  'first_event_at',
  'last_event_at',
  'updated_at',
];

const placeholders = (n: number) => Array.from({ length: n }, (_, i) => `$${i + 1}`).join(', ');

// the job metrics query as the old code ran it (JobRepository's WINDOW_SQL before the migration),
// over every class
const OLD_WINDOW_SQL = `
select job_class, queue, count, succeeded,
  array(select date_part('epoch', x) from unnest(wait_p) x) as wait_p,
  date_part('epoch', wait_max) as wait_max,
  array(select date_part('epoch', x) from unnest(run_p) x) as run_p,
  date_part('epoch', run_max) as run_max
from (
  select job_class, queue, count(*)::int8 as count,
    count(*) filter (where status = 'succeeded')::int8 as succeeded,
    percentile_cont(array[0.5, 0.95, 0.99]) within group (order by wait) as wait_p,
    max(wait) as wait_max,
    percentile_cont(array[0.5, 0.95, 0.99]) within group (order by run) as run_p,
    max(run) as run_max
  from jobs,
    lateral (select started_at - coalesce(enqueued_at, created_at) as wait,
      coalesce(duration_ms * interval '1 millisecond',
        coalesce(completed_at, failed_at) - started_at) as run) d
  where status in ('succeeded', 'failed', 'dead')
    and coalesce(completed_at, failed_at) >= $1 and coalesce(completed_at, failed_at) < $2
  group by job_class, queue
) g
order by job_class nulls last, queue nulls last
`;

interface OldWindowRow {
  job_class: string | null;
  queue: string | null;
  count: string;
  succeeded: string;
  wait_p: (number | null)[] | null;
  wait_max: number | null;
  run_p: (number | null)[] | null;
  run_max: number | null;
}

function windowRow(r: OldWindowRow): JobWindowRow {
  const n = (v: number | null | undefined) => (v === null || v === undefined ? null : Number(v));
  return {
    jobClass: r.job_class,
    queue: r.queue,
    count: Number(r.count),
    succeeded: Number(r.succeeded),
    failed: Number(r.count) - Number(r.succeeded),
    wait: {
      p50: n(r.wait_p?.[0]),
      p95: n(r.wait_p?.[1]),
      p99: n(r.wait_p?.[2]),
      max: n(r.wait_max),
    },
    run: { p50: n(r.run_p?.[0]), p95: n(r.run_p?.[1]), p99: n(r.run_p?.[2]), max: n(r.run_max) },
  };
}

// an event's columns that move to the new table unchanged, times as text (to the microsecond)
const KEPT_COLUMNS = [
  'id',
  'occurred_at',
  'received_at',
  'enqueued_at',
  'created_at',
  'scheduled_at',
  'duration_ms',
  'attempt',
  'retry_count',
  'pid',
  'client_time',
  'will_retry',
  'type',
  'hostname',
  'tid',
  'error_class',
  'error_message',
  'error_backtrace',
  'restarted_as',
  'restarted_from',
]
  .map((c) => (/_at$|backtrace/.test(c) ? `e.${c}::text as ${c}` : `e.${c}`))
  .join(', ');

interface OldAnswers {
  /** per job: the timeline as the detail route showed it, but the queue (see below) */
  timelines: Map<string, Record<string, unknown>[]>;
  payloads: Map<string, string | null>;
  events: Record<string, unknown>[];
  dedupeKeys: Map<string, string>;
  maxEventId: string;
  search: string[];
  deadSearch: string[];
  window: JobWindowRow[];
  succeeded: string[];
  hardJobs: string[];
  otherInstance: string[];
}

describe('lean storage migration of existing data (integration)', () => {
  let db: TestDatabase;
  let ctx: TestApp;
  let old: OldAnswers;

  beforeAll(async () => {
    db = await TestDatabase.createEmpty();
    const orm = await MikroORM.init({ ...ormOptions(db.url), debug: false });
    try {
      await orm.getMigrator().up({ to: BEFORE });
      await fill();
      old = await readOldAnswers();
      await orm.getMigrator().up();
    } finally {
      await orm.close(true);
    }
    ctx = await TestApp.startOn(db);
  });

  afterAll(async () => {
    await ctx?.closeApp();
    await db?.drop();
  });

  /** The old tables filled as the old writer did: events in the order received, then the rows. */
  async function fill(): Promise<void> {
    const arrivals = JOBS.flatMap((job) => job.events.map((e) => ({ job, e }))).sort((a, b) =>
      a.e.receivedAt < b.e.receivedAt ? -1 : a.e.receivedAt > b.e.receivedAt ? 1 : 0,
    );
    for (const { job, e } of arrivals) {
      await db.sql.query(
        `insert into job_events (${EVENT_COLUMNS.join(', ')})
         values (${placeholders(EVENT_COLUMNS.length)})`,
        [
          job.instance,
          job.jid,
          e.type,
          dedupeKey(e),
          e.occurredAt,
          e.clientTime,
          e.receivedAt,
          e.attempt,
          e.retryCount ?? null,
          e.jobClass ?? null,
          e.queue ?? null,
          e.arguments ?? null,
          e.payload ?? null,
          e.wrapperClass ?? null,
          e.rawArguments ?? null,
          e.activeJobId ?? null,
          e.enqueuedAt ?? null,
          e.createdAt ?? null,
          e.hostname ?? null,
          e.pid ?? null,
          e.tid ?? null,
          e.errorClass ?? null,
          e.errorMessage ?? null,
          e.errorBacktrace ? JSON.stringify(e.errorBacktrace) : null,
          e.willRetry ?? null,
          e.durationMs ?? null,
        ],
      );
    }
    const firstArrival = (job: OldJob) => arrivals.findIndex((a) => a.job === job);
    for (const job of [...JOBS].sort((a, b) => firstArrival(a) - firstArrival(b))) {
      await db.sql.query(
        `insert into jobs (${JOB_COLUMNS.join(', ')}) values (${placeholders(JOB_COLUMNS.length)})`,
        oldJobRow(job),
      );
    }
  }

  async function jids(sql: string, params: unknown[] = []): Promise<string[]> {
    const { rows } = await db.sql.query<{ jid: string }>(sql, params);
    return rows.map((r) => r.jid);
  }

  async function readOldAnswers(): Promise<OldAnswers> {
    const timelines = new Map<string, Record<string, unknown>[]>();
    const payloads = new Map<string, string | null>();
    for (const job of JOBS) {
      const { rows } = await db.sql.query<Record<string, unknown>>(
        `select e.type, e.occurred_at, e.client_time, e.received_at, e.attempt, e.retry_count,
           e.hostname, e.pid, e.tid, e.scheduled_at, e.error_class, e.error_message,
           e.error_backtrace, e.will_retry, e.duration_ms, e.restarted_as, e.restarted_from
         from job_events e where e.instance = $1 and e.jid = $2
         order by e.occurred_at, e.attempt, e.id`,
        [job.instance, job.jid],
      );
      timelines.set(
        job.jid,
        rows.map((r) => ({
          ...r,
          occurred_at: (r.occurred_at as Date).toISOString(),
          received_at: (r.received_at as Date).toISOString(),
          scheduled_at: r.scheduled_at === null ? null : (r.scheduled_at as Date).toISOString(),
        })),
      );
      const { rows: payload } = await db.sql.query<{ payload: string | null }>(
        'select payload from jobs where instance = $1 and jid = $2',
        [job.instance, job.jid],
      );
      payloads.set(job.jid, payload[0].payload);
    }
    const { rows: events } = await db.sql.query<Record<string, unknown>>(
      `select ${KEPT_COLUMNS}, j.id as job_id from job_events e
       left join jobs j on j.instance = e.instance and j.jid = e.jid order by e.id`,
    );
    const { rows: keys } = await db.sql.query<{ id: string; dedupe_key: string }>(
      'select id, dedupe_key from job_events',
    );
    const { rows: max } = await db.sql.query<{ id: string }>(
      'select max(id)::text as id from job_events',
    );
    const { rows: window } = await db.sql.query<OldWindowRow>(OLD_WINDOW_SQL, [
      '2000-01-01T00:00:00Z',
      '2100-01-01T00:00:00Z',
    ]);
    return {
      timelines,
      payloads,
      events,
      dedupeKeys: new Map(keys.map((k) => [k.id, k.dedupe_key])),
      maxEventId: max[0].id,
      search: await jids(`select jid from jobs where arguments like '%needle%' order by id desc`),
      deadSearch: await jids(
        `select jid from jobs where arguments like '%needle%' and status = 'dead' order by id desc`,
      ),
      window: window.map(windowRow),
      succeeded: await jids(`select jid from jobs where status = 'succeeded' order by id desc`),
      hardJobs: await jids(`select jid from jobs where job_class = 'HardJob' order by id desc`),
      otherInstance: await jids(`select jid from jobs where instance = 'other' order by id desc`),
    };
  }

  const jobOf = (jid: string) => JOBS.find((j) => j.jid === jid)!;

  it('keeps the history the old tables answered with', () => {
    // the fixture is what it claims to be: a retried-then-dead job, one queued only, one received
    // over two days, events without a client time
    expect(old.timelines.get('jid-dead')!.map((e) => e.type)).toEqual([
      'queued',
      'started',
      'failed',
      'retrying',
      'started',
      'failed',
      'dead',
    ]);
    expect(old.search).toEqual(['jid-queued', 'jid-dead', 'jid-ok-1']);
    expect(old.window.map((w) => [w.jobClass, w.count])).toEqual([
      ['FlakyJob', 1],
      ['HardJob', 3],
      [ACTIVE_JOB.jobClass, 1],
      ['ReportJob', 1],
      ['SlowJob', 1],
    ]);
  });

  it('shows every timeline and payload as before, through the service', async () => {
    const jobs = ctx.get(JobsService);
    for (const job of JOBS) {
      const detail = await jobs.detail(job.jid, job.instance);
      // an event now shows its job's queue (it no longer stores one of its own)
      expect(detail.events).toEqual(
        old.timelines.get(job.jid)!.map((e) => ({ ...e, queue: detail.queue })),
      );
      expect(detail.events_expired).toBe(0);
      expect(detail.events_next_cursor).toBeNull();
      expect(detail.event_count).toBe(job.events.length);
      expect(detail.payload).toBe(old.payloads.get(job.jid));
    }
    const activeJob = await jobs.detail(ACTIVE_JOB_ID);
    expect(activeJob).toMatchObject({
      job_id: 'jid-active-job',
      job_class: ACTIVE_JOB.jobClass,
      wrapper_class: WRAPPER,
      arguments: ACTIVE_JOB.arguments,
      raw_arguments: ACTIVE_JOB.rawArguments,
      payload: ACTIVE_JOB_PAYLOAD,
    });
  });

  it('finds the same jobs by argument substring, status, class and instance', async () => {
    const jobs = ctx.get(JobsService);
    const found = async (filter: Parameters<JobsService['find']>[0]) =>
      (await jobs.find(filter)).map((j) => j.job_id);
    expect(await found({ argumentsContain: 'needle', limit: 50, offset: 0 })).toEqual(old.search);
    expect(
      await found({ argumentsContain: 'needle', statuses: ['dead'], limit: 50, offset: 0 }),
    ).toEqual(old.deadSearch);
    // the list route runs in the request's context (the ORM's request middleware)
    const em = ctx.get(MikroORM).em;
    const listed = (params: Parameters<JobsService['list']>[0]) =>
      RequestContext.create(em, async () => (await jobs.list(params)).jobs.map((j) => j.job_id));
    expect(await listed({ statuses: ['succeeded'] })).toEqual(old.succeeded);
    expect(await listed({ jobClass: 'HardJob' })).toEqual(old.hardJobs);
    expect(await listed({ instance: 'other' })).toEqual(old.otherInstance);
  });

  it('gives the same per-class counts and percentiles', async () => {
    const window = await ctx.get(JobMetricsService).window({
      from: new Date('2000-01-01T00:00:00Z'),
      to: new Date('2100-01-01T00:00:00Z'),
    });
    expect(window).toEqual(old.window);
  });

  it('moves every event to its day partition with its id and its job, and drops the old table', async () => {
    const { rows: events } = await db.sql.query<Record<string, unknown>>(
      `select ${KEPT_COLUMNS}, e.job_id from job_events e order by e.id`,
    );
    expect(events).toEqual(old.events);

    const { rows: placed } = await db.sql.query<{ partition: string; received_at: Date }>(
      `select tableoid::regclass::text as partition, received_at from job_events`,
    );
    for (const row of placed) {
      expect(row.partition).toBe(partitionName(utcDay(row.received_at)));
    }
    const days = new Set(placed.map((r) => utcDay(r.received_at)));
    // three days ago and the last hour: two UTC days, three when the last hour crosses midnight
    const sent = new Set(
      JOBS.flatMap((j) => j.events.map((e) => utcDay(new Date(toUs(e.receivedAt) / 1000)))),
    );
    expect(days).toEqual(sent);
    expect(days.size).toBeGreaterThanOrEqual(2);
    const { rows: partitions } = await db.sql.query<{ name: string }>(
      `select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
       where i.inhparent = 'job_events'::regclass`,
    );
    const names = partitions.map((p) => p.name);
    for (const day of [...days, utcDay(new Date())]) {
      expect(names).toContain(partitionName(day));
    }
    expect(names).toContain('job_events_default');

    const { rows: gone } = await db.sql.query<{ table: string | null }>(
      `select to_regclass('job_events_old')::text as table`,
    );
    expect(gone).toEqual([{ table: null }]);
  });

  it('derives for every old event the dedupe key it was stored under', async () => {
    const { rows } = await db.sql.query<{ id: string; dedupe_key: string }>(
      `select e.id, ${DEDUPE_KEY_SQL} as dedupe_key from job_events e`,
    );
    expect(new Map(rows.map((r) => [r.id, r.dedupe_key]))).toEqual(old.dedupeKeys);
  });

  it('stores payloads without their args where the args are there as such, whole elsewhere', async () => {
    const { rows } = await db.sql.query<{
      jid: string;
      payload_rest: string;
      payload_args_at: number | null;
      identity_us: string;
      first_received_us: string;
    }>(
      `select jid, payload_rest, payload_args_at,
         (extract(epoch from identity_at) * 1000000)::int8::text as identity_us,
         (extract(epoch from first_received_at) * 1000000)::int8::text as first_received_us
       from jobs order by id`,
    );
    expect(rows).toHaveLength(JOBS.length);
    for (const row of rows) {
      const job = jobOf(row.jid);
      const payload = old.payloads.get(row.jid)!;
      const queued = job.events[0];
      const args = queued.rawArguments ?? queued.arguments!;
      if (row.jid === 'jid-spaced') {
        expect(row).toMatchObject({ payload_rest: payload, payload_args_at: null });
      } else {
        const cut = payload.indexOf(`"args":${args}`) + '"args":'.length;
        expect(row.payload_rest).toBe(payload.slice(0, cut) + payload.slice(cut + args.length));
        expect(row.payload_args_at).toBe([...payload.slice(0, cut)].length);
      }
      expect(row.identity_us).toBe(String(toUs(queued.occurredAt)));
      expect(row.first_received_us).toBe(String(toUs(queued.receivedAt)));
    }
  });

  it('ingests new events for migrated jobs: new ids after the old ones, resends deduplicated', async () => {
    const jobs = ctx.get(JobsService);
    const metrics = ctx.get(JobMetricsService);
    expect(await metrics.maxEventId()).toBe(old.maxEventId);

    // old events sent again, with and without a client time
    const deadFailure = jobOf('jid-dead').events[5];
    const resent = await jobs.recordEvent(
      {
        type: 'failed',
        job_id: 'jid-dead',
        occurred_at: deadFailure.occurredAt,
        retry_count: 0,
        job_class: 'FlakyJob',
        queue: 'low',
        error_class: 'Net::ReadTimeout',
        error_message: 'upstream timed out (try 1)',
        will_retry: false,
      },
      { form: false },
    );
    expect(resent.duplicate).toBe(true);
    const noClock = await jobs.recordEvent(
      { type: 'succeeded', job_id: 'jid-ok-3', job_class: 'HardJob', queue: 'default' },
      { form: false },
    );
    expect(noClock.duplicate).toBe(true);
    expect(await metrics.maxEventId()).toBe(old.maxEventId);

    // the queued-only job starts
    const startedAt = microIso(Date.now(), 321);
    const started = await jobs.recordEvent(
      { type: 'started', job_id: 'jid-queued', occurred_at: startedAt, ...worker },
      { form: false },
    );
    expect(started.duplicate).toBe(false);
    const queued = await jobs.detail('jid-queued');
    expect(queued).toMatchObject({
      status: 'running',
      event_count: 2,
      hostname: 'web-1',
      started_at: new Date(Math.floor(toUs(startedAt) / 1000)).toISOString(),
      payload: old.payloads.get('jid-queued'),
      events_expired: 0,
    });
    expect(queued.events.map((e) => e.type)).toEqual(['queued', 'started']);
    const { rows: newEvents } = await db.sql.query<{ id: string; partition: string }>(
      `select id::text, tableoid::regclass::text as partition from job_events
       where id > $1 order by id`,
      [old.maxEventId],
    );
    expect(newEvents).toEqual([
      { id: String(BigInt(old.maxEventId) + 1n), partition: partitionName(utcDay(new Date())) },
    ]);
    expect(await metrics.maxEventId()).toBe(newEvents[0].id);

    // the dead job retried from the dead set: a third run, which succeeds
    for (const type of ['started', 'succeeded']) {
      const { duplicate } = await jobs.recordEvent(
        {
          type,
          job_id: 'jid-dead',
          occurred_at: microIso(Date.now(), type === 'started' ? 1 : 2),
          retry_count: 1,
          ...worker,
        },
        { form: false },
      );
      expect(duplicate).toBe(false);
    }
    const retried = await jobs.detail('jid-dead');
    expect(retried).toMatchObject({
      status: 'succeeded',
      attempt: 2,
      event_count: 9,
      job_class: 'FlakyJob',
      queue: 'low',
      arguments: FLAKY_ARGS,
      // kept while it could be pushed again; dropped once it succeeded (KEEP_SUCCEEDED_PAYLOADS)
      payload: null,
      error_class: 'Net::ReadTimeout',
      events_expired: 0,
    });
    expect(retried.events.slice(0, 7)).toEqual(
      old.timelines.get('jid-dead')!.map((e) => ({ ...e, queue: 'low' })),
    );
    expect(retried.events.slice(7).map((e) => [e.type, e.attempt])).toEqual([
      ['started', 2],
      ['succeeded', 2],
    ]);
  });
});
