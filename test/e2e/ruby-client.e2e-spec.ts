import { execFile } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { runRubyScenario, type RubyClientMode } from '../ruby-client/ruby-client.js';
import { TEST_TOKEN, TestApp } from '../support/test-context.js';

// The Ruby client gem (clients/ruby) end to end: a real Sidekiq server (Debian's ruby-sidekiq) runs
// jobs that succeed, fail and retry, die, and are scheduled, reporting to this service over HTTP;
// then the jobs, statuses and event timelines in our API must match what happened.
const ROOT = resolve(import.meta.dirname, '../..');
const REDIS_DB = 1;

// What may differ between two jobs that went through the same events: their jids, ids and times
// (and the tid: Sidekiq runs them on whichever of its threads is free).
const DIFFERS = /(^|_)(id|jid|at|tid|cursor)$|^duration_ms$/;

/** A job's answer with what may differ replaced by whether it is there. */
function comparable(value: unknown, jid: string): unknown {
  if (Array.isArray(value)) {
    return value.map((v) => comparable(v, jid));
  }
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([key, v]) => [
        key,
        key === 'payload' && typeof v === 'string'
          ? comparable(JSON.parse(v), jid)
          : DIFFERS.test(key)
            ? v !== null
            : comparable(v, jid),
      ]),
    );
  }
  return value;
}

describe('Ruby client with a real Sidekiq (e2e)', () => {
  let ctx: TestApp;
  let baseUrl: string;
  let ingestToken: string;
  let redisUrl: string;

  beforeAll(async () => {
    await promisify(execFile)('bash', [join(ROOT, 'scripts/ensure-ruby.sh')]);
    const url = new URL(process.env.TEST_REDIS_URL ?? process.env.REDIS_URL!);
    url.pathname = `/${REDIS_DB}`;
    redisUrl = url.toString();
    ctx = await TestApp.start();
    await ctx.app.listen(0, '127.0.0.1');
    baseUrl = `http://127.0.0.1:${(ctx.http.address() as AddressInfo).port}`;
    const token = await request(ctx.http)
      .post('/api/v1/tokens')
      .set('PRIVATE-TOKEN', TEST_TOKEN)
      .send({ name: 'sidekiq-app', scopes: ['ingest'] })
      .expect(201);
    ingestToken = token.body.token;
  });

  afterAll(async () => {
    await ctx?.close();
  });

  it.each<RubyClientMode>(['sync', 'async'])(
    'records every job as it happened (%s mode)',
    async (mode) => {
      const { manifest } = await runRubyScenario({
        url: baseUrl,
        token: ingestToken,
        redisUrl,
        mode,
        flushRedis: true,
        instance: `ruby-${mode}`,
      });
      expect(manifest.settled).toBe(true);
      expect(manifest.delivery_ok).toBe(true);
      // the Sidekiq server reported its life (process events are on by default), and its shutdown
      const lives = await request(ctx.http)
        .get('/api/v1/processes')
        .query({ instance: `ruby-${mode}` })
        .set('PRIVATE-TOKEN', TEST_TOKEN)
        .expect(200);
      expect(lives.body.processes).toEqual([
        expect.objectContaining({
          pid: manifest.sidekiq.pid,
          identity: expect.stringMatching(
            new RegExp(`^[^:]+:${manifest.sidekiq.pid}:[0-9a-f]{12}$`),
          ),
          status: 'stopped',
          sidekiq_version: manifest.sidekiq.version,
        }),
      ]);
      const jobs = Object.entries(manifest.jobs);
      expect(jobs.length).toBeGreaterThanOrEqual(4);
      expect(new Set(jobs.map(([, j]) => j.expected_status))).toEqual(
        new Set(['succeeded', 'dead']),
      );
      for (const [jid, expected] of jobs) {
        const res = await request(ctx.http)
          .get(`/api/v1/jobs/${jid}`)
          .query({ instance: `ruby-${mode}` })
          .set('PRIVATE-TOKEN', TEST_TOKEN)
          .expect(200);
        const label = `${expected.scenario} (${jid})`;
        expect({ label, status: res.body.status }).toEqual({
          label,
          status: expected.expected_status,
        });
        expect({ label, class: res.body.job_class, arguments: res.body.arguments }).toEqual({
          label,
          class: expected.class,
          arguments: expected.arguments,
        });
        const types = (res.body.events as { type: string }[]).map((e) => e.type);
        expect({ label, types }).toEqual({ label, types: expected.expected_events });
        const details = res.body.events as {
          type: string;
          retry_count: number | null;
          will_retry: boolean | null;
        }[];
        expected.expected_event_details.forEach((want, i) => {
          if (want.retry_count !== undefined) {
            expect({ label, i, retry_count: details[i].retry_count }).toEqual({
              label,
              i,
              retry_count: want.retry_count,
            });
          }
          if (want.will_retry !== undefined) {
            expect({ label, i, will_retry: details[i].will_retry }).toEqual({
              label,
              i,
              will_retry: want.will_retry,
            });
          }
        });
      }
      // a job whose runs sent only what they add (marked) is shown exactly as one whose runs sent
      // everything (its unmarked twin, same class, arguments and events)
      const twins = jobs.filter(([, j]) => j.twin_of !== undefined);
      expect(twins.map(([, j]) => j.scenario).sort()).toEqual([
        'fails_then_retries_then_succeeds_unmarked',
        'succeeds_unmarked',
      ]);
      for (const [jid, twin] of twins) {
        const [marked, unmarked] = await Promise.all(
          [twin.twin_of!, jid].map((id) =>
            request(ctx.http)
              .get(`/api/v1/jobs/${id}`)
              .query({ instance: `ruby-${mode}` })
              .set('PRIVATE-TOKEN', TEST_TOKEN)
              .expect(200),
          ),
        );
        expect(comparable(unmarked.body, jid)).toEqual(comparable(marked.body, twin.twin_of!));
        expect(marked.body.events.length).toBe(twin.expected_events.length);
      }
      // an Active Job, unwrapped by the client: its own class, arguments and job_id, the wrapper beside
      const active = jobs.find(([, j]) => j.scenario === 'active_job');
      expect(active).toBeDefined();
      const activeJob = await request(ctx.http)
        .get(`/api/v1/jobs/${active![0]}`)
        .query({ instance: `ruby-${mode}` })
        .set('PRIVATE-TOKEN', TEST_TOKEN)
        .expect(200);
      expect(activeJob.body).toMatchObject({
        job_class: 'SupervisorE2E::ActiveReportJob',
        arguments: active![1].arguments,
        wrapper_class: 'ActiveJob::QueueAdapters::SidekiqAdapter::JobWrapper',
        active_job_id: active![1].active_job_id,
      });
      // the duplicate "queued" that Sidekiq's client middleware sends when a scheduled or retried
      // job moves to its queue is kept, not merged
      const scheduled = jobs.find(([, j]) => j.expected_events[0] === 'scheduled');
      expect(scheduled?.[1].expected_events).toContain('queued');
      // a job that reported progress and data through Sidekiq::Supervisor::Status, and read its
      // data back (retrieve gives strings, as sidekiq-status does)
      const progress = jobs.find(([, j]) => j.scenario === 'reports_progress');
      expect(progress).toBeDefined();
      const status = await request(ctx.http)
        .get(`/api/v1/jobs/${progress![0]}/status`)
        .query({ instance: `ruby-${mode}` })
        .set('PRIVATE-TOKEN', TEST_TOKEN)
        .expect(200);
      expect(status.body).toMatchObject({
        status: 'complete',
        pct_complete: 100,
        at: 6,
        total: 8,
        message: 'six of eight',
        data: { run: JSON.parse(progress![1].arguments)[0], step: 6, read_back: '6' },
      });
    },
  );
});
