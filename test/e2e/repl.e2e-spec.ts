import { type ChildProcessWithoutNullStreams, execFile, spawn } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { makeJid } from '../factories/job-event.factory.js';
import { TEST_TOKEN, TestApp } from '../support/test-context.js';

// The REPL for real: `node dist/src/repl.js` (built by `npm test` before the tiers run) as a child
// process on the test database; commands typed on stdin, output read from stdout.
class ReplSession {
  private output = '';
  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
  }

  static async start(
    env: Record<string, string>,
    entry = 'dist/src/repl.js',
  ): Promise<ReplSession> {
    const child = spawn(process.execPath, [entry], {
      env: { ...process.env, ...env, NO_COLOR: '1', NODE_DISABLE_COLORS: '1' },
    });
    const session = new ReplSession(child);
    // the REPL prints a prompt, then our help text and a second prompt: wait for the second
    await session.waitFor(/\.rows\n\n> $/);
    return session;
  }

  private async waitFor(pattern: RegExp, from = 0): Promise<string> {
    for (let i = 0; i < 300; i++) {
      const text = this.output.slice(from);
      if (pattern.test(text)) {
        return text;
      }
      if (this.child.exitCode !== null) {
        throw new Error(`REPL exited (${this.child.exitCode}):\n${this.output}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`REPL never printed ${pattern}:\n${this.output}`);
  }

  /** Types one line and returns what the REPL printed up to its next prompt. */
  async type(line: string): Promise<string> {
    const from = this.output.length;
    this.child.stdin.write(`${line}\n`);
    const text = await this.waitFor(/\n> $/, from);
    return text.replace(/\n> $/, '');
  }

  async close(): Promise<void> {
    this.child.stdin.end();
    await new Promise((resolve) => this.child.once('exit', resolve));
  }
}

describe('JobManager REPL (e2e, real child process)', () => {
  let ctx: TestApp;
  let repl: ReplSession;
  const token = 'needle-' + makeJid().slice(0, 8);
  const done = makeJid();
  const running = makeJid();
  const queued = makeJid();

  beforeAll(async () => {
    ctx = await TestApp.start();
    const post = (path: string, body: object) =>
      request(ctx.http).post(path).set('PRIVATE-TOKEN', TEST_TOKEN).send(body).expect(201);
    const args = JSON.stringify([token, 7]);
    for (const jid of [done, running, queued]) {
      await post('/api/v1/jobs', {
        job_id: jid,
        job_class: 'ReplJob',
        queue: 'default',
        arguments: args,
        occurred_at: '2026-11-23T10:00:00Z',
      });
    }
    await post(`/api/v1/jobs/${done}/started`, { occurred_at: '2026-11-23T10:00:02Z' });
    await post(`/api/v1/jobs/${done}/complete`, { occurred_at: '2026-11-23T10:01:32.5Z' });
    await post(`/api/v1/jobs/${running}/started`, { occurred_at: '2026-11-23T10:00:03Z' });
    await post('/api/v1/jobs', {
      job_id: makeJid(),
      job_class: 'OtherJob',
      arguments: '["unrelated"]',
    });
    repl = await ReplSession.start({
      DATABASE_URL: ctx.db.url,
      PRIVATE_TOKEN: TEST_TOKEN,
      LOG_LEVEL: 'error',
    });
  });

  afterAll(async () => {
    await repl?.close();
    await ctx?.close();
  });

  it('answers the seed commands exactly as written, filtered by arguments', async () => {
    const queuedOut = await repl.type(`JobManager.queued_jobs('${token}')`);
    expect(queuedOut).toContain(queued);
    expect(queuedOut).not.toContain(running);
    expect(queuedOut).toMatch(/job_id\s+│ status/);

    const uncompleted = await repl.type(`JobManager.uncompleted_jobs('${token}')`);
    expect(uncompleted).toContain(running);
    expect(uncompleted).not.toContain(done);

    const completed = await repl.type(`JobManager.completed_jobs("${token}")`);
    expect(completed).toContain(done);

    const all = await repl.type(`JobManager.all_jobs('${token}')`);
    for (const jid of [done, running, queued]) {
      expect(all).toContain(jid);
    }
    expect(all).not.toContain('unrelated');
  });

  it('prints durations in human units', async () => {
    const queuedToDone = await repl.type(`JobManager.queued_to_completion_duration('${token}')`);
    expect(queuedToDone).toContain(done);
    expect(queuedToDone).toContain('1 min 32 s');
    const run = await repl.type(`JobManager.completed_jobs_duration('${token}')`);
    expect(run).toContain('1 min 30 s');
  });

  it('pages large results and tells how to get the next page', async () => {
    const first = await repl.type(`JobManager.all_jobs('${token}', { limit: 2 })`);
    expect(first).toContain(`next page: JobManager.all_jobs("${token}", { offset: 2, limit: 2 })`);
    const second = await repl.type(`JobManager.all_jobs('${token}', { limit: 2, offset: 2 })`);
    expect(second).toContain('rows 3–3 (last page)');
  });

  it('finds a job with its timeline and previews a restart', async () => {
    const found = await repl.type(`JobManager.find('${running}')`);
    expect(found).toContain('Sidekiq: nowhere');
    expect(found).toMatch(/queued\s+│/);
    expect(found).toMatch(/started\s+│/);
    const dry = await repl.type(
      `JobManager.restart_uncompleted_jobs('${token}', { dryRun: true, minAgeSeconds: 0 })`,
    );
    expect(dry).toContain('DRY RUN: would restart 1 of 1');
    expect(dry).toContain(running);
    expect(dry).toContain('would_restart');
  });

  it('explains bad input in one line per field, without stack frames or details', async () => {
    expect(await repl.type('JobManager.all_jobs(42)')).toBe(
      'Uncaught VALIDATION_FAILED: filter must be a string (a substring of the arguments) or omitted',
    );
    expect(await repl.type("JobManager.all_jobs('', { limit: 0 })")).toBe(
      'Uncaught VALIDATION_FAILED: limit must be an integer from 1 to 1000',
    );
    expect(await repl.type("JobManager.find('no-such-job')")).toBe(
      'Uncaught JOB_NOT_FOUND: No job with job_id no-such-job',
    );
  });

  it('prints the help for JobManager.help, with or without parentheses', async () => {
    const bare = await repl.type('JobManager.help');
    expect(bare).toContain('JobManager.restart_uncompleted_jobs');
    expect(bare).not.toContain('[Function');
    expect(await repl.type('JobManager.help()')).toBe(bare);
  });

  it('prints the summary of find and of a restart above their tables', async () => {
    const lines = (await repl.type(`JobManager.find('${running}')`)).split('\n');
    expect(lines[0]).toMatch(new RegExp(`^${running} ReplJob .* — running; Sidekiq: nowhere$`));
    expect(lines[1]).toMatch(/^type\s+│ occurred_at/);
    expect(lines.at(-1)).toBe('2 events');

    const dry = (
      await repl.type(
        `JobManager.restart_uncompleted_jobs('${token}', { dryRun: true, minAgeSeconds: 0 })`,
      )
    ).split('\n');
    expect(dry[0]).toBe('DRY RUN: would restart 1 of 1; skipped 0');
    expect(dry[1]).toMatch(/^job_id\s+│ job_class/);
  });

  it('records its restarts in the audit log as actor repl with the OS user', async () => {
    const before = await auditCount();
    await repl.type(
      `JobManager.restart_uncompleted_jobs('${token}', { dryRun: true, minAgeSeconds: 0 })`,
    );
    expect(await auditCount()).toBe(before + 1);
    const { rows } = await ctx.db.sql.query('select * from audit_log order by id desc limit 1');
    expect(rows[0]).toMatchObject({
      actor_kind: 'repl',
      os_user: userInfo().username,
      token_id: null,
      token_name: null,
      client_address: null,
      action: 'job_manager.restart',
      route: null,
      targets: {},
      options: { filter: token, dryRun: true, minAgeSeconds: 0 },
      outcome: 'ok',
      result: { dry_run: true, considered: 1, restarted: 1, jids: [running] },
    });
  });

  it('makes no restart when its audit record cannot be written', async () => {
    await ctx.db.sql.query(`create function audit_refuse() returns trigger language plpgsql as $$
      begin raise exception 'audit disk full'; end $$`);
    await ctx.db.sql.query(
      'create trigger audit_refuse before insert on audit_log for each row execute function audit_refuse()',
    );
    try {
      const out = await repl.type(
        `JobManager.restart_uncompleted_jobs('${token}', { minAgeSeconds: 0 })`,
      );
      expect(out).toMatch(/^Uncaught AUDIT_UNAVAILABLE: .*not made/m);
    } finally {
      await ctx.db.sql.query('drop trigger audit_refuse on audit_log');
      await ctx.db.sql.query('drop function audit_refuse()');
    }
    const job = await request(ctx.http)
      .get(`/api/v1/jobs/${running}`)
      .set('PRIVATE-TOKEN', TEST_TOKEN)
      .expect(200);
    expect(job.body.status).toBe('running');
  });

  const auditCount = async () =>
    Number((await ctx.db.sql.query('select count(*) from audit_log')).rows[0].count);
});

/** Every file under dir with its size and modification time. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) {
      const path = join(entry.parentPath, entry.name);
      const { size, mtimeMs } = await stat(path);
      files[path] = `${size} ${mtimeMs}`;
    }
  }
  return files;
}

describe('npm run repl builds beside dist/ (e2e)', () => {
  let ctx: TestApp;

  beforeAll(async () => {
    ctx = await TestApp.start();
  });

  afterAll(async () => {
    await ctx?.close();
  });

  it('leaves dist/, which a running service uses, untouched, and the REPL works', async () => {
    const before = await snapshot('dist');
    expect(Object.keys(before)).toContain('dist/src/repl.js');
    // the build step of scripts/repl.sh (the rest installs packages and starts local services)
    const { stdout } = await promisify(execFile)('bash', ['scripts/build-repl.sh']);
    const entry = stdout.trim();
    expect(entry).toBe('.local/repl-dist/src/repl.js');
    const session = await ReplSession.start(
      { DATABASE_URL: ctx.db.url, PRIVATE_TOKEN: TEST_TOKEN, LOG_LEVEL: 'error' },
      entry,
    );
    try {
      expect(await session.type("JobManager.all_jobs('nothing-matches')")).toBe(
        '(no rows) no rows (last page)',
      );
    } finally {
      await session.close();
    }
    expect(await snapshot('dist')).toEqual(before);
  });
});
