// npm run bench:retention — expiring one day of events: dropping its partition against deleting
// its rows. SQL only (the service is not involved): on a fresh migrated database, fills two past
// days' partitions of job_events alike, each with the events of JOBS finished jobs (queued, started,
// succeeded: the three events the service stores per finished job, received over the day), with
// INSERT ... SELECT generate_series straight into the partition, then VACUUM ANALYZE (an old day as
// autovacuum leaves it). Then, in the same run:
//   drop:   under the retention advisory lock (ADVISORY_LOCKS.retention, taken as the scheduler's
//           task takes it), `alter table job_events detach partition` and `drop table` of the first
//           day, in one transaction; its time, WAL written, and n_dead_tup of every job_events
//           partition and of jobs afterwards;
//   delete: the baseline, `delete from job_events where received_at` in the second day, under the
//           same lock; its time, WAL and the dead tuples it leaves in that partition, then the
//           VACUUM those need and the partition's size after it.
// The job rows are not written: expiring events touches no jobs row (JOB_RETENTION_DAYS expires
// job summaries separately). Writes the `retention` section of bench/RESULTS.md.
// Knobs: BENCH_RETENTION_JOBS (1000000).
import os from 'node:os';
import pg from 'pg';
import { ADVISORY_LOCKS } from '../dist/src/database/advisory-locks.js';
import {
  nextDay,
  partitionBounds,
  partitionName,
  partitionSql,
  utcDay,
} from '../dist/src/jobs/storage/partition-sql.js';
import { dropDatabase, freshDatabase, sql, writeSection } from './lib.mjs';

const JOBS = Number(process.env.BENCH_RETENTION_JOBS ?? 1_000_000);

if (!process.env.DATABASE_URL) {
  throw new Error('DATABASE_URL is not set: run through `npm run bench:retention`');
}

// two days a month back: well past any partition the migration or the scheduler makes
const dropDay = utcDay(new Date(Date.now() - 31 * 86_400_000));
const deleteDay = nextDay(dropDay);

// jobs queued evenly over the day, the last one's succeeded event still inside it
const SLOT_SECONDS = (86_400 - 10) / JOBS;

/**
 * The events of JOBS finished jobs received over `day`: job g queued at its slot of the day,
 * started 2 s later, succeeded 1.5 ms after that, as the service stores them (ids from the
 * table's sequence, in arrival order).
 */
function fillSql(day, firstJobId) {
  const { from } = partitionBounds(day);
  return `insert into "${partitionName(day)}" ("id", "job_id", "occurred_at", "received_at",
      "enqueued_at", "created_at", "duration_ms", "attempt", "retry_count", "pid", "client_time",
      "will_retry", "type", "hostname", "tid")
    select nextval('job_events_id_seq'), ${firstJobId} + g, t.at, t.at + interval '3 ms',
      q.at, q.at, t.duration_ms, t.attempt, null, t.pid, true, null, t.type, t.hostname, t.tid
    from generate_series(0, ${JOBS - 1}) g
      cross join lateral (select timestamptz '${from}' + g * interval '${SLOT_SECONDS} s' as at) q
      cross join lateral (values
        (1, q.at, 'queued', 0, 101, 'web-1', null::text, null::float8),
        (2, q.at + interval '2 s', 'started', 1, 4242, 'bench-host', 'tid-bench', null),
        (3, q.at + interval '2.0015 s', 'succeeded', 1, 4242, 'bench-host', 'tid-bench', 1.5)
      ) as t(n, at, type, attempt, pid, hostname, tid, duration_ms)
    order by g, t.n`;
}

/** n_dead_tup of each job_events partition and of jobs, as the statistics report them now. */
async function deadTuples(url) {
  return sql(
    url,
    `select relname as table, n_dead_tup::int8::text as dead from pg_stat_user_tables
     where relid in (select relid from pg_partition_tree('job_events') where isleaf)
       or relname = 'jobs'
     order by relname`,
  );
}

/**
 * Runs `statements` in one transaction after taking the retention lock (it must be free), on a
 * connection of its own that then closes (its statistics are reported as it ends). Returns the
 * milliseconds from BEGIN to the end of COMMIT and the bytes of WAL written meanwhile.
 */
async function underRetentionLock(url, statements) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const [{ lsn: before }] = (await client.query('select pg_current_wal_lsn() as lsn')).rows;
    const started = performance.now();
    await client.query('begin');
    const { rows } = await client.query('select pg_try_advisory_xact_lock($1) as locked', [
      ADVISORY_LOCKS.retention,
    ]);
    if (!rows[0].locked) {
      throw new Error('the retention lock is held elsewhere');
    }
    for (const statement of statements) {
      await client.query(statement);
    }
    await client.query('commit');
    const ms = performance.now() - started;
    // report this transaction's statistics now (PG 15), not when the connection ends
    await client.query('select pg_stat_force_next_flush()');
    const [{ wal }] = (
      await client.query('select pg_wal_lsn_diff(pg_current_wal_lsn(), $1)::int8::text as wal', [
        before,
      ])
    ).rows;
    return { ms, walBytes: Number(wal) };
  } finally {
    await client.end();
  }
}

const dayBytes = async (url, day) =>
  Number(
    (
      await sql(url, `select pg_total_relation_size($1)::int8::text as bytes`, [partitionName(day)])
    )[0].bytes,
  );

const started = performance.now();
const url = await freshDatabase('bench_retention');
const fillMs = {};
for (const [i, day] of [dropDay, deleteDay].entries()) {
  await sql(url, partitionSql(day));
  const t = performance.now();
  await sql(url, fillSql(day, i * JOBS));
  fillMs[day] = performance.now() - t;
}
await sql(url, 'vacuum analyze');
const partitionBytes = await dayBytes(url, dropDay);
const [{ rows: rowsPerDay }] = await sql(
  url,
  `select count(*)::int as rows from "${partitionName(dropDay)}"`,
);

const drop = await underRetentionLock(url, [
  `alter table "job_events" detach partition "${partitionName(dropDay)}"`,
  `drop table "${partitionName(dropDay)}"`,
]);
const deadAfterDrop = await deadTuples(url);
const { from, to } = partitionBounds(deleteDay);
const del = await underRetentionLock(url, [
  `delete from "job_events" where "received_at" >= '${from}' and "received_at" < '${to}'`,
]);
const deadAfterDelete = await deadTuples(url);
// what the delete still owes: the VACUUM that makes its dead rows' space reusable (not smaller)
const vacuumStarted = performance.now();
await sql(url, `vacuum "${partitionName(deleteDay)}"`);
const vacuumMs = performance.now() - vacuumStarted;
const bytesAfterDelete = await dayBytes(url, deleteDay);
await dropDatabase('bench_retention');

const result = {
  date: new Date().toISOString(),
  machine: `${os.cpus().length} cores`,
  jobs: JOBS,
  rows_per_day: rowsPerDay,
  partition_bytes: partitionBytes,
  fill_ms: fillMs,
  drop,
  dead_after_drop: deadAfterDrop,
  delete: del,
  dead_after_delete: deadAfterDelete,
  vacuum_after_delete_ms: vacuumMs,
  bytes_after_delete_and_vacuum: bytesAfterDelete,
  seconds: (performance.now() - started) / 1000,
};
console.log(JSON.stringify(result, null, 2));

const f = (n, d = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const deadSum = (rows) => rows.reduce((n, r) => n + Number(r.dead), 0);
const deadList = (rows) => rows.map((r) => `${r.table} ${f(Number(r.dead))}`).join(', ');
const section = `## Retention (\`npm run bench:retention\`)

Run ${result.date} on ${result.machine}, ${f(result.seconds)} s, layout of Migration20261204000000, SQL only.
Two past days' partitions of job_events each filled with the events of ${f(JOBS)} finished jobs
(queued, started, succeeded: ${f(rowsPerDay)} rows, ${f(partitionBytes / 2 ** 20)} MiB with its indexes and TOAST) by
INSERT ... SELECT straight into the partition, then VACUUM ANALYZE. Each expiry runs
in one transaction under the retention advisory lock (\`pg_try_advisory_xact_lock\`, as the scheduler
takes it), the database otherwise idle; fsync is off on this throwaway Postgres (scripts/services.sh).

| expiring one day (${f(JOBS)} jobs) | time | WAL written | dead tuples left |
| --- | ---: | ---: | ---: |
| detach + drop the day's partition | **${f(drop.ms, 1)} ms** | ${f(drop.walBytes / 1024, 1)} KiB | **${f(deadSum(deadAfterDrop))}** |
| delete its rows (baseline) | ${f(del.ms, 1)} ms | ${f(del.walBytes / 2 ** 20, 1)} MiB | ${f(deadSum(deadAfterDelete))} |
| ratio delete / drop | ${f(del.ms / drop.ms, 0)}× | ${f(del.walBytes / drop.walBytes, 0)}× | |

After the delete, the VACUUM its dead rows need took ${f(vacuumMs)} ms more, and the day's partition
still takes ${f(bytesAfterDelete / 2 ** 20)} MiB (its indexes, and whatever heap VACUUM could not
truncate: free space for rows of a day that comes no more); the dropped day's files are gone.

n_dead_tup after the drop: ${deadList(deadAfterDrop)}; after the delete: ${deadList(deadAfterDelete)}.
The job rows are not written here: expiring events touches no jobs row (job summaries expire by
JOB_RETENTION_DAYS, on their own).
`;
writeSection('retention', section);
