import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { tryAdvisoryXactLock } from '../../database/advisory-locks.js';
import {
  dayOfPartition,
  partitionBounds,
  partitionDays,
  partitionName,
  utcDay,
} from './partition-sql.js';

export interface EnsuredPartitions {
  /** the days whose partitions were made, oldest first */
  created: string[];
  /** events taken out of the default partition into their day's new partition */
  moved: number;
}

export interface ExpiredPartitions {
  /** the days whose partitions were dropped, oldest first */
  dropped: string[];
  /** events older than the cutoff deleted from the default partition (normally none) */
  defaultDeleted: number;
}

// Making, attaching or dropping a partition waits for the locks of queries running on job_events,
// and every insert and read that comes after queues behind it: give up after this long rather than
// stall ingestion behind a long report; the next tick tries again (events wait in the default
// partition meanwhile, or stay a little longer than their retention).
const LOCK_TIMEOUT = '5s';

const PARTITIONS_SQL = `select c.relname as name from pg_inherits i
  join pg_class c on c.oid = i.inhrelid
  where i.inhparent = 'job_events'::regclass`;

const DEFAULT_DAYS_SQL = `select distinct to_char(received_at at time zone 'UTC', 'YYYY-MM-DD') as day
  from job_events_default`;

/**
 * Keeps job_events' daily partitions: makes them ahead of time and for any day whose events went
 * to the default partition (the service was down, or its clock ran ahead), and expires events by
 * dropping whole days. One copy of the service does each at a time (advisory locks `partitions`
 * and `retention`); the others skip.
 */
@Injectable()
export class EventPartitions {
  constructor(private readonly em: EntityManager) {}

  /**
   * Makes the partitions of today (UTC) to `daysAhead` days after it, and of every day the default
   * partition holds events of, moving those events into them in the same transaction. Returns
   * null when another copy of the service holds the lock.
   */
  ensure(now: Date, daysAhead: number): Promise<EnsuredPartitions | null> {
    return this.em.fork().transactional(async (em) => {
      if (!(await tryAdvisoryXactLock(em, 'partitions'))) {
        return null;
      }
      await em.execute(`set local lock_timeout = '${LOCK_TIMEOUT}'`);
      const existing = new Set(await partitionedDays(em));
      const missing = (days: string[]) =>
        partitionDays(days, now, daysAhead).filter((day) => !existing.has(day));
      if (missing(await defaultDays(em)).length === 0) {
        return { created: [], moved: 0 };
      }
      // the writer stores no more events in the default partition until this commits, so none
      // of a day being attached can appear there between the move and the attach
      await em.execute('lock table job_events_default in exclusive mode');
      const inDefault = new Set(await defaultDays(em));
      const created = missing([...inDefault]);
      let moved = 0;
      for (const day of created) {
        moved += await makePartition(em, day, inDefault.has(day));
      }
      return { created, moved };
    });
  }

  /**
   * Drops the partitions whose whole day is older than `eventDays` days before `now`, and deletes
   * older events left in the default partition. Returns null when another copy of the service
   * holds the retention lock.
   */
  dropExpired(now: Date, eventDays: number): Promise<ExpiredPartitions | null> {
    const cutoff = new Date(now.getTime() - eventDays * 86_400_000);
    return this.em.fork().transactional(async (em) => {
      if (!(await tryAdvisoryXactLock(em, 'retention'))) {
        return null;
      }
      await em.execute(`set local lock_timeout = '${LOCK_TIMEOUT}'`);
      const dropped = (await partitionedDays(em)).filter(
        (day) => Date.parse(partitionBounds(day).to) <= cutoff.getTime(),
      );
      if (dropped.length > 0) {
        const names = dropped.map((day) => `"${partitionName(day)}"`).join(', ');
        await em.execute(`drop table ${names}`);
      }
      const [deleted] = await em.execute<{ n: number }[]>(
        `with deleted as (delete from job_events_default where received_at < ? returning 1)
         select count(*)::int as n from deleted`,
        [cutoff.toISOString()],
      );
      return { dropped, defaultDeleted: deleted?.n ?? 0 };
    });
  }
}

/** The days job_events has a partition for, oldest first. */
async function partitionedDays(em: EntityManager): Promise<string[]> {
  const rows = await em.execute<{ name: string }[]>(PARTITIONS_SQL);
  return rows
    .map((row) => dayOfPartition(row.name))
    .filter((day): day is string => day !== null && isDay(day))
    .sort();
}

async function defaultDays(em: EntityManager): Promise<string[]> {
  const rows = await em.execute<{ day: string }[]>(DEFAULT_DAYS_SQL);
  return rows.map((row) => row.day);
}

/**
 * Makes `day`'s partition as a table of its own, moves the day's events out of the default
 * partition into it when there are any, then attaches it: ATTACH takes a lighter lock on job_events
 * than CREATE ... PARTITION OF (inserts into the other partitions go on). Returns the events moved.
 */
async function makePartition(
  em: EntityManager,
  day: string,
  fromDefault: boolean,
): Promise<number> {
  if (!isDay(day)) {
    throw new Error(`not a day: ${day}`);
  }
  const name = `"${partitionName(day)}"`;
  const { from, to } = partitionBounds(day);
  await em.execute(`create table ${name} (like job_events including defaults)`);
  let moved = 0;
  if (fromDefault) {
    const rows = await em.execute<{ n: number }[]>(
      `with moved as (
         delete from job_events_default where received_at >= ? and received_at < ? returning *
       ), copied as (insert into ${name} select * from moved returning 1)
       select count(*)::int as n from copied`,
      [from, to],
    );
    moved = rows[0]?.n ?? 0;
  }
  await em.execute(
    `alter table job_events attach partition ${name} for values from ('${from}') to ('${to}')`,
  );
  return moved;
}

/** A real calendar day written `YYYY-MM-DD`: the only text partition names are made from. */
function isDay(day: string): boolean {
  const time = Date.parse(`${day}T00:00:00Z`);
  return /^\d{4}-\d{2}-\d{2}$/.test(day) && !Number.isNaN(time) && utcDay(new Date(time)) === day;
}
