import { readFileSync } from 'node:fs';
import { MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
import { ormOptions } from '../../../ormconfig.js';
import { adminUrl, databaseUrl } from '../../support/global-setup.js';

// Migration20261125210000 on a database that recorded Active Jobs before it: the rows stored under
// Sidekiq's wrapper are rewritten to the real class and arguments (the wrapper's kept beside), other
// jobs are left as they were, and down() gives the old rows back.
const BEFORE = 'Migration20261124000000';
const MIGRATION = 'Migration20261125210000';
const WRAPPER = 'ActiveJob::QueueAdapters::SidekiqAdapter::JobWrapper';
// a job hash as Rails 6.1 + Sidekiq 6.4.1 pushed it (test/fixtures/active-job)
const payload = readFileSync(
  new URL('../../fixtures/active-job/rails-6.1-sidekiq-6.4.1.jsonl', import.meta.url),
  'utf8',
).split('\n')[0];
const rawArgs = payload.slice(
  payload.indexOf('"args":') + '"args":'.length,
  payload.indexOf(',"jid":'),
);
const activeJobId = (JSON.parse(payload) as { args: { job_id: string }[] }).args[0].job_id;

describe('Active Job migration (integration)', () => {
  const name = `aj_migration_${process.pid}`;
  let orm: MikroORM;
  let db: pg.Client;

  beforeAll(async () => {
    const admin = new pg.Client({ connectionString: adminUrl() });
    await admin.connect();
    await admin.query(`drop database if exists "${name}" with (force)`);
    await admin.query(`create database "${name}"`);
    await admin.end();
    orm = await MikroORM.init({ ...ormOptions(databaseUrl(name)), debug: false });
    await orm.getMigrator().up({ to: BEFORE });
    db = new pg.Client({ connectionString: databaseUrl(name) });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await orm?.close(true);
    const admin = new pg.Client({ connectionString: adminUrl() });
    await admin.connect();
    await admin.query(`drop database if exists "${name}" with (force)`);
    await admin.end();
  });

  it('rewrites rows recorded under the wrapper and leaves the others; down() restores them', async () => {
    for (const [jid, klass, args] of [
      ['ajjid', WRAPPER, rawArgs],
      ['plainjid', 'HardJob', '[1.0,2]'],
    ]) {
      await db.query(
        `insert into jobs (instance, jid, job_class, queue, arguments, status, attempt, event_count,
           first_event_at, last_event_at) values ('default', $1, $2, 'default', $3, 'succeeded', 0, 2, now(), now())`,
        [jid, klass, args],
      );
      for (const type of ['queued', 'succeeded']) {
        await db.query(
          `insert into job_events (instance, jid, type, dedupe_key, occurred_at, client_time, attempt,
             job_class, queue, arguments, payload) values ('default', $1, $2, $2, now(), true, 0, $3, 'default', $4, $5)`,
          // the queued event carries no arguments, only the payload: read from there
          [jid, type, klass, type === 'queued' ? null : args, type === 'queued' ? payload : null],
        );
      }
    }

    await orm.getMigrator().up({ to: MIGRATION });

    const jobs = await db.query(
      `select jid, job_class, arguments, wrapper_class, raw_arguments, active_job_id from jobs order by jid`,
    );
    const real =
      '["gid://shop/User/7",3.0,18446744073709551617,{"a":1,"b":{"value":"sym"}},{"note":"x"}]';
    expect(jobs.rows).toEqual([
      {
        jid: 'ajjid',
        job_class: 'InvoiceJob',
        arguments: real,
        wrapper_class: WRAPPER,
        raw_arguments: rawArgs,
        active_job_id: activeJobId,
      },
      {
        jid: 'plainjid',
        job_class: 'HardJob',
        arguments: '[1.0,2]',
        wrapper_class: null,
        raw_arguments: null,
        active_job_id: null,
      },
    ]);
    const events = await db.query(
      `select jid, type, job_class, arguments, wrapper_class, raw_arguments, active_job_id
       from job_events where jid = 'ajjid' order by type`,
    );
    expect(events.rows).toEqual([
      {
        jid: 'ajjid',
        type: 'queued',
        job_class: 'InvoiceJob',
        arguments: real,
        wrapper_class: WRAPPER,
        raw_arguments: rawArgs,
        active_job_id: activeJobId,
      },
      {
        jid: 'ajjid',
        type: 'succeeded',
        job_class: 'InvoiceJob',
        arguments: real,
        wrapper_class: WRAPPER,
        raw_arguments: rawArgs,
        active_job_id: activeJobId,
      },
    ]);

    await orm.getMigrator().down();
    const restored = await db.query(
      `select jid, job_class, arguments from jobs where jid = 'ajjid'`,
    );
    expect(restored.rows).toEqual([{ jid: 'ajjid', job_class: WRAPPER, arguments: rawArgs }]);
  });
});
