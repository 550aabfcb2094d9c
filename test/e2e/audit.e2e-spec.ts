import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import request from 'supertest';
import { AUDIT_SPEC } from '../../src/audit/audit.interceptor.js';
import { AuditService } from '../../src/audit/audit.service.js';
import { ADVISORY_LOCKS } from '../../src/database/advisory-locks.js';
import { TaskScheduler } from '../../src/scheduler/task.scheduler.js';
import { makeJid, makeStartedJobEvents } from '../factories/job-event.factory.js';
import { saveCronJob } from '../factories/cron-job.factory.js';
import { flushDb, redisUrlForDb } from '../integration/sidekiq/sidekiq-test-app.js';
import { listRoutes } from '../support/routes.js';
import { SidekiqWriter } from '../support/sidekiq-writer.js';
import { TEST_TOKEN, TestApp } from '../support/test-context.js';

const URL12 = redisUrlForDb(12);
const UA = 'audit-e2e/1.0';
const DAY_MS = 86_400_000;

interface Row {
  id: string;
  at: Date;
  actor_kind: string;
  token_id: string | null;
  token_name: string | null;
  os_user: string | null;
  client_address: string | null;
  user_agent: string | null;
  action: string;
  route: string | null;
  instance: string | null;
  targets: Record<string, unknown>;
  options: Record<string, unknown>;
  outcome: string;
  result: Record<string, unknown> | null;
  error: Record<string, unknown> | null;
  finished_at: Date | null;
}

interface Case {
  action: string;
  method: 'post' | 'delete';
  /** sets up Sidekiq's Redis and gives the path (and body) */
  setup: () => Promise<{ path: string; body?: Record<string, unknown> }>;
  route: string;
  targets: (path: string) => Record<string, unknown>;
  options?: Record<string, unknown>;
  result?: Record<string, unknown>;
}

// The audit log (#24): every change route writes one record before it runs and finishes it with
// the outcome; a change whose record cannot be written is refused and not made; the records
// cannot be changed or deleted (no route does, and the table's trigger refuses); retention prunes.
describe('audit log (e2e)', () => {
  let ctx: TestApp;
  let writer: SidekiqWriter;
  let auditor: { id: string; token: string };
  let reader: string;
  const http = () => request(ctx.http);
  const as = (token: string) => ({ 'PRIVATE-TOKEN': token, 'User-Agent': UA });
  const latest = async (): Promise<Row> =>
    (await ctx.db.sql.query<Row>('select * from audit_log order by id desc limit 1')).rows[0];
  const count = async (): Promise<number> =>
    Number((await ctx.db.sql.query('select count(*) from audit_log')).rows[0].count);
  const inFuture = () => Math.floor(Date.now() / 1000) + 3600;

  beforeAll(async () => {
    await flushDb(URL12);
    ctx = await TestApp.start({ env: { REDIS_URL: URL12 } });
    writer = SidekiqWriter.connect(URL12);
    const made = await http()
      .post('/api/v1/tokens')
      .set(as(TEST_TOKEN))
      .send({ name: 'auditor', scopes: ['admin'] })
      .expect(201);
    auditor = { id: made.body.id, token: made.body.token };
    reader = (
      await http()
        .post('/api/v1/tokens')
        .set(as(TEST_TOKEN))
        .send({ name: 'reader', scopes: ['read'] })
        .expect(201)
    ).body.token;
  });

  afterAll(async () => {
    await writer?.close();
    await ctx?.close();
  });

  const identity = 'worker-1:4242:0f0e0d0c0b0a';
  const heartbeat = () =>
    writer.heartbeat({
      identity,
      hostname: 'worker-1',
      pid: 4242,
      startedAt: Date.now() / 1000 - 60,
    });
  const jids: Record<string, string> = {};
  const jid = (name: string) => (jids[name] ??= makeJid());
  let tokenId = '';

  const CASES: Case[] = [
    {
      action: 'sidekiq.queue.clear',
      method: 'post',
      setup: async () => {
        await writer.push({ queue: 'mailers', jid: jid('clear') });
        await writer.push({ queue: 'mailers' });
        return { path: '/api/v1/sidekiq/queues/mailers/clear', body: { confirm: true } };
      },
      route: 'POST /api/v1/sidekiq/queues/:name/clear',
      targets: () => ({ queue: 'mailers' }),
      options: { confirm: true },
      result: { deleted: 2 },
    },
    {
      action: 'sidekiq.queue.job.delete',
      method: 'delete',
      setup: async () => {
        await writer.push({ queue: 'default', jid: jid('qdel') });
        return { path: `/api/v1/sidekiq/queues/default/jobs/${jid('qdel')}` };
      },
      route: 'DELETE /api/v1/sidekiq/queues/:name/jobs/:jid',
      targets: () => ({ queue: 'default', jids: [jid('qdel')] }),
      options: {},
    },
    {
      action: 'sidekiq.set.job.delete',
      method: 'delete',
      setup: async () => {
        await writer.retry({ jid: jid('sdel') }, inFuture());
        return { path: `/api/v1/sidekiq/sets/retry/jobs/${jid('sdel')}` };
      },
      route: 'DELETE /api/v1/sidekiq/sets/:set/jobs/:jid',
      targets: () => ({ set: 'retry', jids: [jid('sdel')] }),
    },
    {
      action: 'sidekiq.set.job.retry',
      method: 'post',
      setup: async () => {
        await writer.retry({ jid: jid('sretry') }, inFuture());
        return { path: `/api/v1/sidekiq/sets/retry/jobs/${jid('sretry')}/retry` };
      },
      route: 'POST /api/v1/sidekiq/sets/:set/jobs/:jid/retry',
      targets: () => ({ set: 'retry', jids: [jid('sretry')] }),
    },
    {
      action: 'sidekiq.set.job.add_to_queue',
      method: 'post',
      setup: async () => {
        await writer.schedule({ jid: jid('add') }, inFuture());
        return { path: `/api/v1/sidekiq/sets/scheduled/jobs/${jid('add')}/add-to-queue` };
      },
      route: 'POST /api/v1/sidekiq/sets/:set/jobs/:jid/add-to-queue',
      targets: () => ({ set: 'scheduled', jids: [jid('add')] }),
    },
    {
      action: 'sidekiq.set.job.kill',
      method: 'post',
      setup: async () => {
        await writer.retry({ jid: jid('kill') }, inFuture());
        return { path: `/api/v1/sidekiq/sets/retry/jobs/${jid('kill')}/kill` };
      },
      route: 'POST /api/v1/sidekiq/sets/:set/jobs/:jid/kill',
      targets: () => ({ set: 'retry', jids: [jid('kill')] }),
    },
    {
      action: 'sidekiq.set.retry_all',
      method: 'post',
      setup: async () => {
        await writer.redis.del('dead');
        await writer.dead({}, Date.now() / 1000);
        await writer.dead({}, Date.now() / 1000);
        return { path: '/api/v1/sidekiq/sets/dead/retry-all', body: { confirm: true } };
      },
      route: 'POST /api/v1/sidekiq/sets/:set/retry-all',
      targets: () => ({ set: 'dead' }),
      options: { confirm: true },
      result: { affected: 2, skipped: 0 },
    },
    {
      action: 'sidekiq.set.kill_all',
      method: 'post',
      setup: async () => {
        await writer.redis.del('retry');
        await writer.retry({}, inFuture());
        return { path: '/api/v1/sidekiq/sets/retry/kill-all', body: { confirm: true } };
      },
      route: 'POST /api/v1/sidekiq/sets/:set/kill-all',
      targets: () => ({ set: 'retry' }),
      result: { affected: 1, skipped: 0 },
    },
    {
      action: 'sidekiq.set.clear',
      method: 'post',
      setup: async () => {
        await writer.redis.del('schedule');
        await writer.schedule({}, inFuture());
        await writer.schedule({}, inFuture());
        await writer.schedule({}, inFuture());
        return { path: '/api/v1/sidekiq/sets/scheduled/clear', body: { confirm: true } };
      },
      route: 'POST /api/v1/sidekiq/sets/:set/clear',
      targets: () => ({ set: 'scheduled' }),
      result: { affected: 3 },
    },
    {
      action: 'sidekiq.process.quiet',
      method: 'post',
      setup: async () => {
        await heartbeat();
        return { path: `/api/v1/sidekiq/processes/${identity}/quiet` };
      },
      route: 'POST /api/v1/sidekiq/processes/:identity/quiet',
      targets: () => ({ identity }),
    },
    {
      action: 'sidekiq.process.stop',
      method: 'post',
      setup: async () => {
        await heartbeat();
        return { path: `/api/v1/sidekiq/processes/${identity}/stop` };
      },
      route: 'POST /api/v1/sidekiq/processes/:identity/stop',
      targets: () => ({ identity }),
    },
    {
      action: 'sidekiq.processes.quiet_all',
      method: 'post',
      setup: async () => {
        await heartbeat();
        return { path: '/api/v1/sidekiq/processes/quiet-all' };
      },
      route: 'POST /api/v1/sidekiq/processes/quiet-all',
      targets: () => ({}),
      result: { count: 1 },
    },
    {
      action: 'sidekiq.processes.stop_all',
      method: 'post',
      setup: async () => {
        await heartbeat();
        return { path: '/api/v1/sidekiq/processes/stop-all' };
      },
      route: 'POST /api/v1/sidekiq/processes/stop-all',
      targets: () => ({}),
      result: { count: 1 },
    },
    {
      action: 'sidekiq.stats.reset',
      method: 'post',
      setup: async () => {
        await writer.stat('processed', 5);
        return { path: '/api/v1/sidekiq/stats/reset', body: { counters: ['processed'] } };
      },
      route: 'POST /api/v1/sidekiq/stats/reset',
      targets: () => ({}),
      options: { counters: ['processed'] },
    },
    {
      action: 'job_manager.restart',
      method: 'post',
      setup: async () => {
        const at = new Date(Date.now() - 3_600_000).toISOString();
        await ctx.postEvents(
          makeStartedJobEvents({
            jid: jid('restart'),
            jobClass: 'AuditedRestartJob',
            queue: 'default',
            arguments: '["audit"]',
            queuedAt: at,
            worker: { hostname: 'gone-host', pid: 1 },
          }),
        );
        return {
          path: '/api/v1/job-manager/restart-uncompleted-jobs',
          body: { dry_run: true, min_age_seconds: 0, filter: 'audit' },
        };
      },
      route: 'POST /api/v1/job-manager/restart-uncompleted-jobs',
      targets: () => ({}),
      options: { dry_run: true, min_age_seconds: 0, filter: 'audit' },
      result: { dry_run: true, considered: 1, jids: [jid('restart')] },
    },
    {
      action: 'job_status.cancel',
      method: 'post',
      setup: async () => {
        await writer.schedule({ jid: jid('cancel') }, inFuture());
        return { path: `/api/v1/jobs/${jid('cancel')}/cancel` };
      },
      route: 'POST /api/v1/jobs/:jid/cancel',
      targets: () => ({ jids: [jid('cancel')] }),
      result: { cancelled: true },
    },
    ...(['enable', 'disable'] as const).map((verb): Case => ({
      action: `sidekiq.periodic.${verb}`,
      method: 'post',
      setup: async () => {
        await saveCronJob(writer.redis, { name: 'nightly' });
        return { path: `/api/v1/sidekiq/periodic/nightly/${verb}` };
      },
      route: `POST /api/v1/sidekiq/periodic/:name/${verb}`,
      targets: () => ({ periodic_job: 'nightly' }),
    })),
    {
      action: 'sidekiq.periodic.enqueue',
      method: 'post',
      setup: async () => {
        await saveCronJob(writer.redis, { name: 'nightly' });
        return { path: '/api/v1/sidekiq/periodic/nightly/enqueue' };
      },
      route: 'POST /api/v1/sidekiq/periodic/:name/enqueue',
      targets: () => ({ periodic_job: 'nightly' }),
    },
    {
      action: 'token.create',
      method: 'post',
      setup: () =>
        Promise.resolve({ path: '/api/v1/tokens', body: { name: 'ci', scopes: ['read'] } }),
      route: 'POST /api/v1/tokens',
      targets: () => ({}),
      options: { name: 'ci', scopes: ['read'] },
      result: { token_name: 'ci' },
    },
    {
      action: 'token.rotate',
      method: 'post',
      setup: () =>
        Promise.resolve({ path: `/api/v1/tokens/${tokenId}/rotate`, body: { grace_seconds: 60 } }),
      route: 'POST /api/v1/tokens/:id/rotate',
      targets: () => ({ token_id: tokenId }),
      options: { grace_seconds: 60 },
    },
    {
      action: 'token.revoke',
      method: 'delete',
      setup: () => Promise.resolve({ path: `/api/v1/tokens/${tokenId}` }),
      route: 'DELETE /api/v1/tokens/:id',
      targets: () => ({ token_id: tokenId }),
    },
  ];

  it('marks every change route (admin, not GET) with @Audited, and the table below covers each', () => {
    const reflector = ctx.app.get(Reflector);
    const discovery = ctx.app.get(DiscoveryService);
    const scanner = ctx.app.get(MetadataScanner);
    const actions = new Map<string, string>();
    for (const wrapper of discovery.getControllers()) {
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance) {
        continue;
      }
      for (const name of scanner.getAllMethodNames(Object.getPrototypeOf(instance))) {
        const spec = reflector.get<{ action: string } | undefined>(
          AUDIT_SPEC,
          instance[name] as () => unknown,
        );
        if (spec) {
          actions.set(`${wrapper.metatype?.name}.${name}`, spec.action);
        }
      }
    }
    const changes = listRoutes(ctx.app).filter(
      (r) => r.method !== 'GET' && !r.public && (r.scopes ?? ['admin']).includes('admin'),
    );
    const admin = changes.filter((r) => (r.scopes ?? ['admin']).length === 1);
    expect(admin.length).toBe(actions.size);
    expect([...actions.values()].sort()).toEqual(CASES.map((c) => c.action).sort());
  });

  it.each(CASES.map((c) => [c.action, c] as const))(
    'records %s: who, from where, route, targets, options and outcome',
    async (_, c) => {
      if (c.action === 'token.rotate') {
        tokenId = (
          await http()
            .post('/api/v1/tokens')
            .set(as(TEST_TOKEN))
            .send({ name: 'to-rotate', scopes: ['read'] })
            .expect(201)
        ).body.id;
      }
      const { path, body } = await c.setup();
      const before = await count();
      const sent = http()[c.method](path).set(as(auditor.token));
      const res = body ? await sent.send(body) : await sent;
      expect([200, 201], JSON.stringify(res.body)).toContain(res.status);
      expect(await count()).toBe(before + 1);
      const row = await latest();
      expect(row).toMatchObject({
        actor_kind: 'token',
        token_id: auditor.id,
        token_name: 'auditor',
        os_user: null,
        client_address: expect.stringMatching(/^(127\.0\.0\.1|::1)$/),
        user_agent: UA,
        action: c.action,
        route: c.route,
        outcome: 'ok',
        error: null,
      });
      expect(row.targets).toEqual(c.targets(path));
      if (c.options) {
        expect(row.options).toEqual(c.options);
      }
      expect(row.result).toMatchObject(c.result ?? {});
      expect(row.finished_at!.getTime()).toBeGreaterThanOrEqual(row.at.getTime());
      // never a secret: neither the caller's token nor one the response carries
      const text = JSON.stringify(row);
      expect(text).not.toContain(auditor.token);
      if (typeof res.body?.token === 'string') {
        expect(text).not.toContain(res.body.token);
      }
      if (c.action === 'token.create') {
        expect(row.result).toMatchObject({ token_id: res.body.id });
      }
    },
  );

  it('records the bootstrap token as such, and a refused request (validation) as an error', async () => {
    await writer.push({ queue: 'kept' });
    const res = await http()
      .post('/api/v1/sidekiq/queues/kept/clear')
      .set(as(TEST_TOKEN))
      .send({})
      .expect(400);
    expect(res.body.code).toBe('VALIDATION_FAILED');
    const row = await latest();
    expect(row).toMatchObject({
      actor_kind: 'bootstrap',
      token_id: null,
      action: 'sidekiq.queue.clear',
      outcome: 'error',
      result: null,
      error: { code: 'VALIDATION_FAILED', status: 400, fields: ['confirm'] },
    });
    expect(await writer.redis.llen('queue:kept')).toBe(1);
  });

  it('records text Postgres cannot store (NUL) replaced, so such a request still gets its 400', async () => {
    const res = await http()
      .post('/api/v1/tokens')
      .set(as(auditor.token))
      .send({ name: 'a\u0000b', scopes: ['read'] })
      .expect(400);
    expect(res.body.details.errors[0].field).toBe('name');
    const row = await latest();
    expect(row).toMatchObject({
      action: 'token.create',
      outcome: 'error',
      options: { name: 'a\uFFFDb', scopes: ['read'] },
      error: { code: 'VALIDATION_FAILED', fields: ['name'] },
    });
  });

  it('records nothing for a token without the scope (the guard refuses first)', async () => {
    const before = await count();
    await http()
      .post('/api/v1/sidekiq/queues/kept/clear')
      .set(as(reader))
      .send({ confirm: true })
      .expect(403);
    expect(await count()).toBe(before);
  });

  it('refuses a change whose audit record cannot be written (503), and does not make it', async () => {
    await writer.push({ queue: 'precious', jid: jid('precious') });
    const tokens = Number(
      (await ctx.db.sql.query('select count(*) from api_tokens')).rows[0].count,
    );
    await ctx.db.sql.query(`create function audit_refuse() returns trigger language plpgsql as $$
      begin raise exception 'audit disk full'; end $$`);
    await ctx.db.sql.query(
      'create trigger audit_refuse before insert on audit_log for each row execute function audit_refuse()',
    );
    try {
      const res = await http()
        .post('/api/v1/sidekiq/queues/precious/clear')
        .set(as(auditor.token))
        .send({ confirm: true })
        .expect(503);
      expect(res.body).toMatchObject({ statusCode: 503, code: 'AUDIT_UNAVAILABLE' });
      expect(res.headers['retry-after']).toBeDefined();
      expect(res.body.message).toMatch(/not made/);
      expect(await writer.redis.llen('queue:precious')).toBe(1);
      await http()
        .post('/api/v1/tokens')
        .set(as(auditor.token))
        .send({ name: 'never', scopes: ['read'] })
        .expect(503);
      const after = Number(
        (await ctx.db.sql.query('select count(*) from api_tokens')).rows[0].count,
      );
      expect(after).toBe(tokens);
    } finally {
      await ctx.db.sql.query('drop trigger audit_refuse on audit_log');
      await ctx.db.sql.query('drop function audit_refuse()');
    }
    // with the log back, the same request goes through
    await http()
      .post('/api/v1/sidekiq/queues/precious/clear')
      .set(as(auditor.token))
      .send({ confirm: true })
      .expect(200);
    expect(await writer.redis.llen('queue:precious')).toBe(0);
  });

  it('has no route that changes or deletes a record', async () => {
    const audit = listRoutes(ctx.app).filter((r) => r.path.includes('/audit'));
    expect(audit.map((r) => `${r.method} ${r.path}`).sort()).toEqual([
      'GET /api/v1/audit',
      'GET /api/v1/jobs/:jid/audit',
    ]);
    const { id } = await latest();
    for (const method of ['put', 'patch', 'delete'] as const) {
      await http()[method](`/api/v1/audit/${id}`).set(as(auditor.token)).expect(404);
    }
  });

  it('refuses, in the database, any change of a record but its one finishing, and any delete', async () => {
    const finished = await latest();
    expect(finished.outcome).not.toBe('pending');
    const refused = /append-only/;
    await expect(
      ctx.db.sql.query(`update audit_log set outcome = 'ok' where id = $1`, [finished.id]),
    ).rejects.toThrow(refused);
    await expect(
      ctx.db.sql.query(`update audit_log set token_name = 'someone else' where id = $1`, [
        finished.id,
      ]),
    ).rejects.toThrow(refused);
    await expect(
      ctx.db.sql.query('delete from audit_log where id = $1', [finished.id]),
    ).rejects.toThrow(refused);
    await expect(ctx.db.sql.query('truncate audit_log')).rejects.toThrow(refused);
    // a pending record: its outcome may be written once, nothing else of it
    const pending = await ctx.get(AuditService).begin({
      actor: { kind: 'repl', osUser: 'ops' },
      action: 'test.pending',
      route: null,
      instance: null,
      clientAddress: null,
      userAgent: null,
      targets: {},
      options: {},
    });
    await expect(
      ctx.db.sql.query(`update audit_log set outcome = 'ok', action = 'other' where id = $1`, [
        pending,
      ]),
    ).rejects.toThrow(refused);
    await ctx.db.sql.query(`update audit_log set outcome = 'ok', result = '{}' where id = $1`, [
      pending,
    ]);
    await expect(
      ctx.db.sql.query(`update audit_log set outcome = 'error' where id = $1`, [pending]),
    ).rejects.toThrow(refused);
    expect(
      Number(
        (await ctx.db.sql.query('select count(*) from audit_log where id = $1', [finished.id]))
          .rows[0].count,
      ),
    ).toBe(1);
  });

  describe('GET /api/v1/audit', () => {
    const list = (query: Record<string, string | number>, token = auditor.token) =>
      http().get('/api/v1/audit').query(query).set(as(token));

    it('lists newest first with the record fields, admin only', async () => {
      const res = await list({ limit: 3 }).expect(200);
      expect(res.body.records).toHaveLength(3);
      const ids = res.body.records.map((r: { id: string }) => BigInt(r.id));
      expect(ids[0] > ids[1] && ids[1] > ids[2]).toBe(true);
      expect(res.body.records[0]).toMatchObject({
        actor: { kind: expect.any(String) },
        action: expect.any(String),
        outcome: expect.any(String),
      });
      await list({}, reader).expect(403);
    });

    it('filters by actor (name, id, bootstrap, repl), action, jid, instance and time', async () => {
      const byName = (await list({ actor: 'auditor', limit: 200 }).expect(200)).body.records;
      const byId = (await list({ actor: auditor.id, limit: 200 }).expect(200)).body.records;
      expect(byName.length).toBeGreaterThanOrEqual(CASES.length);
      expect(byId).toEqual(byName);
      expect(
        byName.every((r: { actor: { token_name: string } }) => r.actor.token_name === 'auditor'),
      ).toBe(true);
      const boot = (await list({ actor: 'bootstrap', limit: 200 }).expect(200)).body.records;
      expect(boot.length).toBeGreaterThan(0);
      expect(boot.every((r: { actor: { kind: string } }) => r.actor.kind === 'bootstrap')).toBe(
        true,
      );
      const repl = (await list({ actor: 'repl' }).expect(200)).body.records;
      expect(repl.map((r: { action: string }) => r.action)).toEqual(['test.pending']);
      const clears = (await list({ action: 'sidekiq.queue.clear' }).expect(200)).body.records;
      // the table's, the refused one (validation) and the one made once the log was back
      expect(clears.length).toBe(3);
      expect(new Set(clears.map((r: { action: string }) => r.action))).toEqual(
        new Set(['sidekiq.queue.clear']),
      );
      const byJid = (await list({ jid: jid('kill') }).expect(200)).body.records;
      expect(byJid.map((r: { action: string }) => r.action)).toEqual(['sidekiq.set.job.kill']);
      // a jid named only by the outcome (a restart's)
      const restarted = (await list({ jid: jid('restart') }).expect(200)).body.records;
      expect(restarted.map((r: { action: string }) => r.action)).toEqual(['job_manager.restart']);
      expect((await list({ instance: 'default' }).expect(200)).body.records.length).toBeGreaterThan(
        0,
      );
      expect((await list({ instance: 'elsewhere' }).expect(200)).body.records).toEqual([]);
      const future = new Date(Date.now() + DAY_MS).toISOString();
      expect((await list({ since: future }).expect(200)).body.records).toEqual([]);
      const past = new Date(Date.now() - DAY_MS).toISOString();
      expect((await list({ until: past }).expect(200)).body.records).toEqual([]);
      const all = (await list({ since: past, until: future, limit: 200 }).expect(200)).body;
      expect(all.records.length).toBe(await count());
    });

    it('pages with a cursor through every record once', async () => {
      const total = await count();
      const seen: string[] = [];
      let cursor: string | null = null;
      for (let i = 0; i < 100; i++) {
        const page: { records: { id: string }[]; next_cursor: string | null } = (
          await list({ limit: 4, ...(cursor ? { cursor } : {}) }).expect(200)
        ).body;
        seen.push(...page.records.map((r) => r.id));
        cursor = page.next_cursor;
        if (cursor === null) {
          break;
        }
        expect(page.records).toHaveLength(4);
      }
      expect(seen.length).toBe(total);
      expect(new Set(seen).size).toBe(total);
    });

    it('refuses bad input with 400 naming the field', async () => {
      for (const [query, field] of [
        [{ limit: 0 }, 'limit'],
        [{ limit: 201 }, 'limit'],
        [{ cursor: 'abc' }, 'cursor'],
        [{ cursor: '-1' }, 'cursor'],
        [{ since: 'yesterday' }, 'since'],
        [{ until: '2026-13-01' }, 'until'],
        [{ jid: 'a b' }, 'jid'],
        [{ instance: 'x'.repeat(65) }, 'instance'],
        [{ action: 'Drop Table' }, 'action'],
        [{ actor: 'x'.repeat(201) }, 'actor'],
      ] as const) {
        const res = await list(query as Record<string, string | number>).expect(400);
        expect(res.body).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED' });
        expect(res.body.details.errors.map((e: { field: string }) => e.field)).toContain(field);
      }
      const twice = await http()
        .get('/api/v1/audit?actor=a&actor=b')
        .set(as(auditor.token))
        .expect(400);
      expect(twice.body.details.errors[0].field).toBe('actor');
    });
  });

  it("shows a job's actions on its own route, to a read token, without the client's details", async () => {
    const res = await http()
      .get(`/api/v1/jobs/${jid('cancel')}/audit`)
      .set(as(reader))
      .expect(200);
    expect(res.body.records).toHaveLength(1);
    expect(res.body.records[0]).toMatchObject({
      action: 'job_status.cancel',
      actor: { kind: 'token', token_name: 'auditor' },
      targets: { jids: [jid('cancel')] },
      outcome: 'ok',
      client_address: null,
      user_agent: null,
    });
    expect(res.body.next_cursor).toBeNull();
    await http().get('/api/v1/jobs/a%20b/audit').set(as(reader)).expect(400);
    await http()
      .get(`/api/v1/jobs/${jid('cancel')}/audit?limit=0`)
      .set(as(reader))
      .expect(400);
  });

  it('prunes records older than AUDIT_RETENTION_DAYS (default 365) in the retention tick', async () => {
    const old = await ctx.db.sql.query<{ id: string }>(
      `insert into audit_log (at, actor_kind, token_name, action, outcome)
       select now() - interval '400 days', 'bootstrap', 'PRIVATE_TOKEN', 'test.old', 'ok'
       from generate_series(1, 3) returning id`,
    );
    expect(old.rows).toHaveLength(3);
    const kept = await count();
    expect(await ctx.get(TaskScheduler).tick('retention', new Date())).toBe('ran');
    expect(await count()).toBe(kept - 3);
    const left = await ctx.db.sql.query(`select count(*) from audit_log where action = 'test.old'`);
    expect(Number(left.rows[0].count)).toBe(0);
  });

  it('prunes nothing while another copy holds the retention lock', async () => {
    await ctx.db.sql.query(
      `insert into audit_log (at, actor_kind, token_name, action, outcome)
       values (now() - interval '400 days', 'bootstrap', 'PRIVATE_TOKEN', 'test.locked', 'ok')`,
    );
    const other = await ctx.db.sql.connect();
    try {
      await other.query('begin');
      await other.query('select pg_advisory_xact_lock($1)', [ADVISORY_LOCKS.retention]);
      expect(await ctx.get(AuditService).prune(new Date())).toBeNull();
      await other.query('rollback');
    } finally {
      other.release();
    }
    expect(await ctx.get(AuditService).prune(new Date())).toBe(1);
  });
});
