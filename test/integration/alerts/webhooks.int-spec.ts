import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { TaskScheduler } from '../../../src/scheduler/task.scheduler.js';
import { TEST_TOKEN, TestApp } from '../../support/test-context.js';

interface Received {
  path: string;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
}

/** A real HTTP receiver on loopback: records what it gets, answers `status` (or never, `hang`). */
class Receiver {
  received: Received[] = [];
  status = 200;
  hang = false;
  port = 0;
  private server: Server | null = null;

  async start(): Promise<this> {
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.received.push({
          path: req.url ?? '',
          headers: req.headers,
          body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
        });
        if (!this.hang) {
          res.writeHead(this.status).end();
        }
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    return this;
  }

  /** Down: the port refuses connections (including the client's kept-alive ones). */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  take(): Received[] {
    const taken = this.received;
    this.received = [];
    return taken;
  }
}

const T0 = new Date('2026-12-04T12:00:00.000Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const findingIdOf = (r: Received) => (r.body.finding as { id: number }).id;

describe('webhook alerts, with real receivers on loopback', () => {
  const ops = new Receiver(); // every detector, generic JSON
  const chat = new Receiver(); // stuck only, Slack's body
  const slow = new Receiver(); // new_failure only, never answers
  let ctx: TestApp;
  let scheduler: TaskScheduler;

  beforeAll(async () => {
    await Promise.all([ops.start(), chat.start(), slow.start()]);
    slow.hang = true;
    ctx = await TestApp.start({
      env: {
        ALERT_WEBHOOKS: JSON.stringify([
          {
            name: 'ops',
            url: ops.url('/hook'),
            repeat_interval_s: 600,
            headers: { Authorization: 'Bearer ops-secret' },
          },
          { name: 'chat', url: chat.url('/slack'), format: 'slack', detectors: ['stuck'] },
          { name: 'slow', url: slow.url('/slow'), detectors: ['new_failure'] },
        ]),
        ALERT_LINK_BASE_URL: 'https://supervisor.example.com/',
        ALERT_TIMEOUT_MS: '500',
        ALERT_RETRY_BASE_SECONDS: '10',
        ALERT_RETRY_MAX_SECONDS: '300',
        ALERT_MAX_ATTEMPTS: '4',
      },
    });
    scheduler = ctx.get(TaskScheduler);
  });

  afterAll(async () => {
    await ctx?.close();
    await Promise.all([ops.stop(), chat.stop(), slow.stop()]);
  });

  beforeEach(() => {
    ops.take();
    chat.take();
    slow.take();
  });

  const insertFinding = async (
    f: { detector: string; identity: string; jid?: string; severity?: string },
    startedAt: Date,
  ): Promise<number> => {
    const { rows } = await ctx.db.sql.query<{ id: string }>(
      `insert into findings (detector, identity, instance, job_class, jid, severity, summary,
         evidence, started_at, last_seen_at)
       values ($1, $2, 'default', 'ReportJob', $3, $4, $5, $6, $7, $7) returning id`,
      [
        f.detector,
        f.identity,
        f.jid ?? null,
        f.severity ?? 'warning',
        `${f.detector} finding ${f.identity}`,
        JSON.stringify({ seen: f.identity }),
        startedAt.toISOString(),
      ],
    );
    return Number(rows[0].id);
  };

  const endFinding = (id: number, endedAt: Date) =>
    ctx.db.sql.query('update findings set ended_at = $2 where id = $1', [id, endedAt]);

  const tick = (when: Date) => scheduler.tick('alerts', when);

  const deliveries = async (query: Record<string, string | number>) =>
    (
      await request(ctx.http)
        .get('/api/v1/alerts/deliveries')
        .query(query)
        .set('PRIVATE-TOKEN', TEST_TOKEN)
        .expect(200)
    ).body as {
      deliveries: Record<string, unknown>[];
      next_cursor: string | null;
    };

  it('sends a firing once per open finding, routed by detector, and a resolved when it ends', async () => {
    const stuck = await insertFinding(
      { detector: 'stuck', identity: 'stuck:default:j1', jid: 'j1', severity: 'critical' },
      at(-60),
    );
    const duplicate = await insertFinding(
      { detector: 'duplicate', identity: 'duplicate:default:j2', jid: 'j2' },
      at(-30),
    );

    expect(await tick(at(0))).toBe('ran');
    const fired = ops.take();
    expect(fired.map((r) => [r.path, r.body.kind, findingIdOf(r)])).toEqual([
      ['/hook', 'firing', stuck],
      ['/hook', 'firing', duplicate],
    ]);
    expect(fired[0].headers.authorization).toBe('Bearer ops-secret');
    expect(fired[0].headers['content-type']).toBe('application/json');
    expect(fired[0].body).toMatchObject({
      status: 'firing',
      receiver: 'ops',
      link: 'https://supervisor.example.com/sidekiq#/jobs/j1/default',
      finding: {
        id: stuck,
        detector: 'stuck',
        identity: 'stuck:default:j1',
        instance: 'default',
        job_class: 'ReportJob',
        jid: 'j1',
        severity: 'critical',
        summary: 'stuck finding stuck:default:j1',
        evidence: { seen: 'stuck:default:j1' },
        ended_at: null,
      },
    });
    // the stuck-only Slack receiver gets the stuck finding, not the duplicate one
    const slack = chat.take();
    expect(slack).toHaveLength(1);
    expect(slack[0].path).toBe('/slack');
    expect(slack[0].body.text).toBe(
      ':rotating_light: FIRING [critical] stuck on default: stuck finding stuck:default:j1',
    );
    const blocks = slack[0].body.blocks as { type: string; fields?: { text: string }[] }[];
    expect(blocks.map((b) => b.type)).toEqual(['header', 'section', 'section', 'context']);
    expect(blocks[2].fields!.map((f) => f.text)).toContain(
      '*Job:* <https://supervisor.example.com/sidekiq#/jobs/j1/default|j1>',
    );

    // deduplicated: the findings are still open, nothing new is sent
    expect(await tick(at(5))).toBe('ran');
    expect(await tick(at(10))).toBe('ran');
    expect([...ops.take(), ...chat.take()]).toEqual([]);

    await endFinding(stuck, at(12));
    await tick(at(15));
    const resolved = ops.take();
    expect(resolved.map((r) => [r.body.kind, r.body.status, findingIdOf(r)])).toEqual([
      ['resolved', 'resolved', stuck],
    ]);
    expect((resolved[0].body.finding as { ended_at: string }).ended_at).toBe(at(12).toISOString());
    expect(chat.take().map((r) => r.body.text)).toEqual([
      ':white_check_mark: RESOLVED [critical] stuck on default: stuck finding stuck:default:j1',
    ]);
    await tick(at(20));
    expect([...ops.take(), ...chat.take()]).toEqual([]);

    // a new finding for the same identity is a new finding: it fires again
    const again = await insertFinding(
      { detector: 'stuck', identity: 'stuck:default:j1', jid: 'j1' },
      at(25),
    );
    await tick(at(30));
    expect(ops.take().map((r) => [r.body.kind, findingIdOf(r)])).toEqual([['firing', again]]);
    expect(chat.take()).toHaveLength(1);
    await endFinding(again, at(31));
    await tick(at(32));
    expect(ops.take().map((r) => [r.body.kind, findingIdOf(r)])).toEqual([['resolved', again]]);
    expect(chat.take()).toHaveLength(1);

    // the still open duplicate finding is repeated once its receiver's interval (600 s) is up
    await tick(at(599));
    expect(ops.take()).toEqual([]);
    await tick(at(601));
    await tick(at(606));
    expect(ops.take().map((r) => [r.body.kind, r.body.status, findingIdOf(r)])).toEqual([
      ['repeat', 'firing', duplicate],
    ]);
    await endFinding(duplicate, at(607));
    await tick(at(610));
    expect(ops.take().map((r) => [r.body.kind, findingIdOf(r)])).toEqual([['resolved', duplicate]]);

    const log = await deliveries({ finding_id: stuck });
    expect(
      log.deliveries.map((d) => [d.receiver, d.kind, d.attempt, d.delivered, d.status_code]),
    ).toEqual([
      ['chat', 'resolved', 1, true, 200],
      ['ops', 'resolved', 1, true, 200],
      ['chat', 'firing', 1, true, 200],
      ['ops', 'firing', 1, true, 200],
    ]);
  });

  it('retries with backoff while a receiver is down, every attempt logged, and delivers once it is up', async () => {
    await ops.stop();
    const overdue = await insertFinding(
      { detector: 'overdue', identity: 'overdue:default:NightlyJob' },
      at(1000),
    );
    const stuck = await insertFinding(
      { detector: 'stuck', identity: 'stuck:default:j9', jid: 'j9' },
      at(1000),
    );

    // refused; the Slack receiver still gets its stuck finding in the same tick
    await tick(at(1000));
    expect(chat.take().map((r) => r.body.text)).toEqual([
      ':rotating_light: FIRING [warning] stuck on default: stuck finding stuck:default:j9',
    ]);
    // nothing due before the first retry (10 s)
    await tick(at(1005));

    ops.status = 500;
    await ops.start(); // same port
    await tick(at(1010)); // second attempt: 500
    expect(ops.take()).toHaveLength(1);
    await tick(at(1020)); // the next is 20 s after the second attempt
    expect(ops.take()).toEqual([]);

    ops.status = 200;
    await tick(at(1030));
    const got = ops.take();
    expect(got.map((r) => [r.body.kind, findingIdOf(r)]).sort()).toEqual(
      [
        ['firing', overdue],
        ['firing', stuck],
      ].sort(),
    );
    await tick(at(1040));
    expect(ops.take()).toEqual([]);

    const log = await deliveries({ receiver: 'ops', finding_id: overdue });
    expect(
      log.deliveries
        .reverse()
        .map((d) => [d.attempt, d.delivered, d.status_code, d.sent_at, d.next_attempt_at]),
    ).toEqual([
      [1, false, null, at(1000).toISOString(), at(1010).toISOString()],
      [2, false, 500, at(1010).toISOString(), at(1030).toISOString()],
      [3, true, 200, at(1030).toISOString(), null],
    ]);
    expect(log.deliveries[0].error).toMatch(/ECONNREFUSED/);
    expect(log.deliveries[1].error).toBe('HTTP 500');
    expect(log.deliveries[2].error).toBeNull();
    // the other finding waited behind the first while the receiver was down: not tried on its own
    const other = await deliveries({ receiver: 'ops', finding_id: stuck });
    expect(other.deliveries.map((d) => d.delivered)).toEqual([true]);

    await endFinding(overdue, at(1045));
    await endFinding(stuck, at(1045));
    await tick(at(1050));
    expect(ops.take().map((r) => r.body.kind)).toEqual(['resolved', 'resolved']);
  });

  it('gives a silent receiver up after the timeout without holding back the others, and gives a notification up after its attempts', async () => {
    const failure = await insertFinding(
      { detector: 'new_failure', identity: 'new_failure:fp1' },
      at(2000),
    );
    await tick(at(2000));
    expect(ops.take().map(findingIdOf)).toEqual([failure]);
    expect(slow.take().map(findingIdOf)).toEqual([failure]);
    for (const s of [2010, 2030, 2070]) {
      await tick(at(s));
    }
    // ALERT_MAX_ATTEMPTS is 4: no fifth (the silent receiver's repeat interval is 4 h); the
    // finding is still open, so ops, told at 2000, gets its 10-minute repeat
    await tick(at(5000));
    expect(slow.take()).toHaveLength(3);
    expect(ops.take().map((r) => [r.body.kind, findingIdOf(r)])).toEqual([['repeat', failure]]);
    const log = await deliveries({ receiver: 'slow' });
    expect(log.deliveries.map((d) => [d.attempt, d.error, d.next_attempt_at])).toEqual([
      [4, 'no answer within 500 ms', null],
      [3, 'no answer within 500 ms', at(2070).toISOString()],
      [2, 'no answer within 500 ms', at(2030).toISOString()],
      [1, 'no answer within 500 ms', at(2010).toISOString()],
    ]);
  });

  it('pages the log newest first with a cursor and filters it', async () => {
    const first = await deliveries({ limit: 2 });
    expect(first.deliveries).toHaveLength(2);
    expect(first.next_cursor).not.toBeNull();
    const second = await deliveries({ limit: 2, cursor: first.next_cursor! });
    const ids = [...first.deliveries, ...second.deliveries].map((d) => d.id as number);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    expect(new Set(ids).size).toBe(4);

    const failed = await deliveries({ receiver: 'ops', outcome: 'failed' });
    expect(failed.deliveries.map((d) => d.status_code)).toEqual([500, null]);
    const repeats = await deliveries({ kind: 'repeat' });
    expect(repeats.deliveries.map((d) => d.receiver)).toEqual(['ops', 'ops']);

    const bad = await request(ctx.http)
      .get('/api/v1/alerts/deliveries')
      .query({ kind: 'sometimes', limit: 501 })
      .set('PRIVATE-TOKEN', TEST_TOKEN)
      .expect(400);
    expect(JSON.stringify(bad.body)).toMatch(/kind/);
    expect(JSON.stringify(bad.body)).toMatch(/limit/);
  });

  it('is for admin tokens only', async () => {
    const created = await request(ctx.http)
      .post('/api/v1/tokens')
      .set('PRIVATE-TOKEN', TEST_TOKEN)
      .send({ name: 'reader', scopes: ['read'] })
      .expect(201);
    await request(ctx.http)
      .get('/api/v1/alerts/deliveries')
      .set('PRIVATE-TOKEN', created.body.token as string)
      .expect(403);
  });
});
