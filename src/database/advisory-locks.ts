import type { EntityManager } from '@mikro-orm/postgresql';

/**
 * Every Postgres advisory lock id the service takes, in one list (ids must not collide). All are
 * transaction-level (`pg_try_advisory_xact_lock`): they go with the transaction that holds them.
 *
 * - `statsSnapshot`, `statsImport`, `retention`, `partitions`, `detectors`, `fingerprints`, `alerts`,
 *   `periodic`:
 *   one per scheduled task; the copy of the service that gets the lock does the work, the others
 *   skip the tick.
 * - `restart`: one JobManager restart at a time across every copy; a second one gets CONFLICT.
 *
 * Not in this list: the per-job ingest locks, keyed by a hash of instance and jid rather than a
 * constant (JOB_LOCK_KEY in src/jobs/ingest/statements.ts). The ingest writer takes them in sorted
 * order while it folds a job's events, and retention takes the same ones before it deletes a job.
 */
export const ADVISORY_LOCKS = {
  statsSnapshot: 7_301_001,
  statsImport: 7_301_002,
  retention: 7_301_003,
  partitions: 7_301_004,
  detectors: 7_301_005,
  fingerprints: 7_301_006,
  alerts: 7_301_007,
  periodic: 7_301_008,
  restart: 7_301_100,
} as const;

export type AdvisoryLock = keyof typeof ADVISORY_LOCKS;

/** Takes `lock` for the rest of `em`'s transaction without waiting; false when another holds it. */
export async function tryAdvisoryXactLock(em: EntityManager, lock: AdvisoryLock): Promise<boolean> {
  const [row] = await em.execute<{ locked: boolean }[]>(
    'select pg_try_advisory_xact_lock(?) as locked',
    [ADVISORY_LOCKS[lock]],
  );
  return row?.locked === true;
}
