import type { Logger } from '@nestjs/common';
import type pg from 'pg';
import { isDatabaseUnavailable } from '../../database/pg-errors.js';
import { type FoldEvent, foldJob } from '../fold/job-fold.js';
import {
  COPY_JOB_COLUMNS,
  EVENT_COLUMNS,
  type IngestEvent,
  JOB_COLUMNS,
  type JobRowValues,
} from './columns.js';
import { copyIn, copyText } from './copy-format.js';
import { ingestToFold, rowsParam, type StoredEventRow, storedToFold, toRow } from './rows.js';
import {
  COPY_EVENTS_SQL,
  COPY_JOBS_SQL,
  INSERT_EVENTS_SQL,
  LOCK_JOBS_SQL,
  prepared,
  SELECT_EVENTS_SQL,
  UPSERT_JOBS_SQL,
} from './statements.js';

const UNIQUE_VIOLATION = '23505';

interface JobEvents {
  instance: string;
  jid: string;
  events: FoldEvent[];
  /** it had stored events, so it has a row */
  existed: boolean;
  /** it got a new event in this transaction */
  touched: boolean;
}

/**
 * One group's transaction: lock its jobs, read the events they have, store the new ones and the
 * jobs' rows folded from all of them.
 */
export class EventStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly logger: Pick<Logger, 'warn'>,
  ) {}

  /**
   * One transaction; on the rare conflict the fast path cannot explain, the careful one. Resolves
   * with one flag per event: true when this transaction stored it (its first copy in the group).
   */
  async commit(events: IngestEvent[]): Promise<boolean[]> {
    try {
      return await this.transaction((client) => this.writeFast(client, events));
    } catch (error) {
      if ((error as { code?: string }).code !== UNIQUE_VIOLATION) {
        throw error;
      }
      // a job row without events, or a writer that skipped the locks: let Postgres sort it out
      this.logger.warn('ingest fell back to the upsert path after a unique violation');
      return await this.transaction((client) => this.writeCareful(client, events));
    }
  }

  private async transaction(
    work: (client: pg.PoolClient) => Promise<boolean[]>,
  ): Promise<boolean[]> {
    const client = await this.pool.connect();
    let broken = false;
    // the pool listens for errors of idle clients only: a connection lost while this one is out
    // (Postgres gone mid-transaction) would otherwise be an uncaught 'error' that ends the process
    const lost = () => {
      broken = true;
    };
    client.on('error', lost);
    try {
      await client.query('begin');
      const stored = await work(client);
      await client.query('commit');
      return stored;
    } catch (error) {
      broken = isDatabaseUnavailable(error);
      await client.query('rollback').catch(() => {
        broken = true;
      });
      throw error;
    } finally {
      client.off('error', lost);
      client.release(broken);
    }
  }

  /**
   * Lock the jobs, read the events they already have, and leave out the ones sent again; insert
   * the rest; fold each job that got one from its stored events plus the new ones, in memory.
   * A brand-new job costs one index probe to read: its events and row go in by COPY.
   */
  private async writeFast(client: pg.PoolClient, events: IngestEvent[]): Promise<boolean[]> {
    const [instances, jids] = distinctJobs(events);
    await client.query(prepared('lock_jobs', LOCK_JOBS_SQL, [instances, jids]));
    const stored = await client.query<StoredEventRow>(
      prepared('select_events', SELECT_EVENTS_SQL, [instances, jids]),
    );
    const jobs = new Map<string, JobEvents>();
    const seen = new Set<string>();
    for (const row of stored.rows) {
      const key = jobKey(row.instance, row.jid);
      entryFor(jobs, key, row.instance, row.jid, true).events.push(storedToFold(row));
      seen.add(eventKey(key, row.dedupe_key));
    }
    const fresh: IngestEvent[] = [];
    // the new events' payloads by event identity, for the rows of new jobs
    const payloads = new Map<string, string>();
    const storedNow = new Array<boolean>(events.length).fill(false);
    for (let i = 0; i < events.length; i++) {
      const event = events[i];
      const key = jobKey(event.instance, event.jid);
      const eventId = eventKey(key, event.dedupeKey);
      if (seen.has(eventId)) {
        continue;
      }
      seen.add(eventId);
      storedNow[i] = true;
      fresh.push(event);
      if (event.payload !== null) {
        payloads.set(eventId, event.payload);
      }
      const entry = entryFor(jobs, key, event.instance, event.jid, false);
      entry.events.push(ingestToFold(event));
      entry.touched = true;
    }
    if (fresh.length === 0) {
      return storedNow;
    }
    await copyIn(client, COPY_EVENTS_SQL, copyText(EVENT_COLUMNS, fresh));
    const created: JobRowValues[] = [];
    const changed: JobRowValues[] = [];
    for (const [key, entry] of jobs) {
      if (entry.touched) {
        const row = toRow(entry.instance, entry.jid, foldJob(entry.events));
        if (entry.existed) {
          changed.push(row);
        } else {
          // every event of a new job is in this batch: the row takes its payload from there
          row.payload =
            row.payloadFrom === null
              ? null
              : (payloads.get(eventKey(key, row.payloadFrom)) ?? null);
          created.push(row);
        }
      }
    }
    if (created.length > 0) {
      await copyIn(client, COPY_JOBS_SQL, copyText(COPY_JOB_COLUMNS, created));
    }
    if (changed.length > 0) {
      await client.query(
        prepared('upsert_jobs', UPSERT_JOBS_SQL, [rowsParam(JOB_COLUMNS, changed)]),
      );
    }
    return storedNow;
  }

  /** Lets Postgres skip stored events and upsert rows; then refolds from all stored events. */
  private async writeCareful(client: pg.PoolClient, events: IngestEvent[]): Promise<boolean[]> {
    const [instances, jids] = distinctJobs(events);
    await client.query(prepared('lock_jobs', LOCK_JOBS_SQL, [instances, jids]));
    const result = await client.query<{ instance: string; jid: string; dedupe_key: string }>(
      INSERT_EVENTS_SQL,
      [rowsParam(EVENT_COLUMNS, events)],
    );
    if (result.rows.length > 0) {
      const stored = await client.query<StoredEventRow>(SELECT_EVENTS_SQL, [
        result.rows.map((r) => r.instance),
        result.rows.map((r) => r.jid),
      ]);
      const jobs = new Map<string, JobEvents>();
      for (const row of stored.rows) {
        entryFor(jobs, jobKey(row.instance, row.jid), row.instance, row.jid, true).events.push(
          storedToFold(row),
        );
      }
      const rows = [...jobs.values()].map((e) => toRow(e.instance, e.jid, foldJob(e.events)));
      await client.query(UPSERT_JOBS_SQL, [rowsParam(JOB_COLUMNS, rows)]);
    }
    const inserted = new Set(
      result.rows.map((r) => eventKey(jobKey(r.instance, r.jid), r.dedupe_key)),
    );
    // the first copy of each stored event in the group is the one that stored it
    return events.map((e) => inserted.delete(eventKey(jobKey(e.instance, e.jid), e.dedupeKey)));
  }
}

const jobKey = (instance: string, jid: string) => `${instance}\u0000${jid}`;
/** One event of a job (its jobKey): events with the same key are copies of one another. */
const eventKey = (job: string, dedupeKey: string) => `${job}\u0000${dedupeKey}`;

function entryFor(
  jobs: Map<string, JobEvents>,
  key: string,
  instance: string,
  jid: string,
  existed: boolean,
): JobEvents {
  let entry = jobs.get(key);
  if (!entry) {
    entry = { instance, jid, events: [], existed, touched: false };
    jobs.set(key, entry);
  }
  return entry;
}

/** The distinct jobs of a batch as the two parallel arrays the lock and read statements take. */
function distinctJobs(events: IngestEvent[]): [string[], string[]] {
  const seen = new Set<string>();
  const instances: string[] = [];
  const jids: string[] = [];
  for (const e of events) {
    const key = jobKey(e.instance, e.jid);
    if (!seen.has(key)) {
      seen.add(key);
      instances.push(e.instance);
      jids.push(e.jid);
    }
  }
  return [instances, jids];
}
