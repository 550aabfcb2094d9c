import type { Logger } from '@nestjs/common';
import type pg from 'pg';
import { isDatabaseUnavailable } from '../../database/pg-errors.js';
import { type FoldEvent, foldJob } from '../fold/job-fold.js';
import { JobEventType, JobStatus } from '../job-lifecycle.enum.js';
import {
  type IngestEvent,
  JOB_COLUMNS,
  type JobRowValues,
  STORED_EVENT_COLUMNS,
} from './columns.js';
import { copyIn, copyText } from './copy-format.js';
import { dedupeKey } from './event-parser.js';
import { splitPayload } from './payload-args.js';
import { usToIso } from './timestamps.js';
import {
  ingestToFold,
  rowsParam,
  type StoredEventRow,
  type StoredJobRow,
  storedToFold,
  toRow,
} from './rows.js';
import {
  COPY_EVENTS_SQL,
  COPY_JOBS_SQL,
  LOCK_JOBS_SQL,
  NEXT_JOB_IDS_SQL,
  prepared,
  SELECT_EVENTS_SQL,
  SELECT_JOBS_SQL,
  updateJobsSql,
} from './statements.js';

const UNIQUE_VIOLATION = '23505';

interface JobEvents {
  instance: string;
  jid: string;
  /** the row's id: stored, or drawn for a new job */
  id: string | null;
  events: FoldEvent[];
  /** it has a row */
  existed: boolean;
  /** events the row counts (stored ones, some of which may have expired) */
  counted: number;
  /** events new in this transaction */
  added: number;
}

/**
 * One group's transaction: lock its jobs, read their rows and the events they have, store the new
 * events and the jobs' rows folded from all of them.
 */
export class EventStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly logger: Pick<Logger, 'warn'>,
    /** else a succeeded job's payload is dropped (its row's payload_rest null) */
    private readonly keepSucceededPayloads = true,
  ) {
    this.updateJobs = updateJobsSql(keepSucceededPayloads);
  }

  private readonly updateJobs: string;

  /**
   * One transaction; should a new job's row meet one made meanwhile (a writer that skipped the
   * job locks), once more: the second reads that row. Resolves with one flag per event: true when
   * this transaction stored it (its first copy in the group).
   */
  async commit(events: IngestEvent[]): Promise<boolean[]> {
    try {
      return await this.transaction((client) => this.write(client, events));
    } catch (error) {
      if ((error as { code?: string }).code !== UNIQUE_VIOLATION) {
        throw error;
      }
      this.logger.warn('ingest met a job row made outside its lock; writing the group again');
      return await this.transaction((client) => this.write(client, events));
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
   * Lock the jobs, read their rows and stored events, and leave out the events sent again; insert
   * the rest; fold each job that got one from its stored events plus the new ones, in memory. A
   * brand-new job costs one index probe to read: its events and row go in by COPY.
   */
  private async write(client: pg.PoolClient, events: IngestEvent[]): Promise<boolean[]> {
    const [instances, jids] = distinctJobs(events);
    await client.query(prepared('lock_jobs', LOCK_JOBS_SQL, [instances, jids]));
    const found = await client.query<StoredJobRow>(
      prepared('select_jobs', SELECT_JOBS_SQL, [instances, jids]),
    );
    const jobs = new Map<string, JobEvents>();
    const seen = new Set<string>();
    if (found.rows.length > 0) {
      const byId = new Map<string, JobEvents>();
      let from = Number.POSITIVE_INFINITY;
      let to = 0;
      for (const row of found.rows) {
        const entry = entryFor(
          jobs,
          jobKey(row.instance, row.jid),
          row.instance,
          row.jid,
          row.job_id,
        );
        entry.counted = row.event_count;
        byId.set(row.job_id, entry);
        from = Math.min(from, Number(row.first_received_us));
        to = Math.max(to, Number(row.updated_us));
      }
      const stored = await client.query<StoredEventRow>(
        prepared('select_events', SELECT_EVENTS_SQL, [[...byId.keys()], from, to]),
      );
      for (const row of stored.rows) {
        const entry = byId.get(row.job_id)!;
        const key = jobKey(entry.instance, entry.jid);
        const event = storedToFold(row);
        entry.events.push(event);
        seen.add(eventKey(key, row.dedupe_key));
        if (row.started_us !== null) {
          const start = startOf(event, Number(row.started_us));
          entry.events.push(start);
          seen.add(eventKey(key, start.dedupeKey));
        }
      }
    }
    const fresh: IngestEvent[] = [];
    // the new events' payloads by event identity
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
      const entry = entryFor(jobs, key, event.instance, event.jid, null);
      entry.events.push(ingestToFold(event));
      entry.added++;
    }
    if (fresh.length === 0) {
      return storedNow;
    }
    const created: JobEvents[] = [];
    for (const entry of jobs.values()) {
      if (entry.id === null) {
        created.push(entry);
      }
    }
    if (created.length > 0) {
      const ids = await client.query<{ id: string }>(
        prepared('next_job_ids', NEXT_JOB_IDS_SQL, [created.length]),
      );
      created.forEach((entry, i) => (entry.id = ids.rows[i].id));
    }
    for (const event of fresh) {
      event.jobId = jobs.get(jobKey(event.instance, event.jid))!.id;
    }
    await copyIn(client, COPY_EVENTS_SQL, copyText(STORED_EVENT_COLUMNS, mergeRuns(fresh)));
    const newRows: JobRowValues[] = [];
    const changed: JobRowValues[] = [];
    for (const [key, entry] of jobs) {
      if (entry.added === 0) {
        continue;
      }
      const folded = foldJob(entry.events);
      const row = toRow(entry.instance, entry.jid, folded);
      row.id = entry.id!;
      const payload =
        folded.payloadFrom === null ? undefined : payloads.get(eventKey(key, folded.payloadFrom));
      if (
        payload !== undefined &&
        (this.keepSucceededPayloads || folded.status !== JobStatus.Succeeded)
      ) {
        const { rest, argsAt } = splitPayload(payload, folded.rawArguments ?? folded.arguments);
        row.payloadRest = rest;
        row.payloadArgsAt = argsAt;
      }
      if (!entry.existed) {
        newRows.push(row);
      } else {
        // the row counts events that may have expired since
        row.eventCount = entry.counted + entry.added;
        changed.push(row);
      }
    }
    if (newRows.length > 0) {
      await copyIn(client, COPY_JOBS_SQL, copyText(JOB_COLUMNS, newRows));
    }
    if (changed.length > 0) {
      await client.query(
        prepared('update_jobs', this.updateJobs, [rowsParam(JOB_COLUMNS, changed)]),
      );
    }
    return storedNow;
  }
}

/**
 * The events to store for `fresh`: a run's `started` event goes on the row of the event that ends
 * the run (its `started_at`) when the two agree on everything a started event carries (the Ruby
 * client's compact row sends them as one: started_at_us on the succeeded or failed row). One row
 * instead of two: the reads expand it back into the same two events (startOf, the timeline and the
 * metrics' SQL), so the fold, the timeline and the dedupe see exactly what was sent.
 */
export function mergeRuns(fresh: IngestEvent[]): IngestEvent[] {
  const starts = new Map<string, IngestEvent[]>();
  for (const e of fresh) {
    if (e.type === JobEventType.Started && e.clientTime && carriesNoOutcome(e)) {
      const key = runKey(e);
      const list = starts.get(key);
      if (list) {
        list.push(e);
      } else {
        starts.set(key, [e]);
      }
    }
  }
  if (starts.size === 0) {
    return fresh;
  }
  const merged = new Set<IngestEvent>();
  for (const end of fresh) {
    if (end.type !== JobEventType.Succeeded && end.type !== JobEventType.Failed) {
      continue;
    }
    const start = starts.get(runKey(end))?.find((s) => !merged.has(s) && sameRun(s, end));
    if (start) {
      end.startedAt = start.occurredAt;
      merged.add(start);
    }
  }
  return merged.size === 0 ? fresh : fresh.filter((e) => !merged.has(e));
}

const runKey = (e: IngestEvent) => `${e.instance}\u0000${e.jid}\u0000${e.attempt}`;

const carriesNoOutcome = (e: IngestEvent) =>
  e.errorClass === null &&
  e.errorMessage === null &&
  e.errorBacktrace === null &&
  e.willRetry === null &&
  e.durationMs === null &&
  e.startedAt === null;

/** Everything a started event stores but its type and time is what the run's end stores. */
const sameRun = (start: IngestEvent, end: IngestEvent) =>
  start.retryCount === end.retryCount &&
  start.enqueuedAt === end.enqueuedAt &&
  start.createdAt === end.createdAt &&
  start.scheduledAt === end.scheduledAt &&
  start.hostname === end.hostname &&
  start.pid === end.pid &&
  start.tid === end.tid &&
  start.restartedAs === end.restartedAs &&
  start.restartedFrom === end.restartedFrom &&
  end.startedAt === null;

/** The started event a stored run's end stands for (its started_at), as the fold reads it. */
export function startOf(end: FoldEvent, startedUs: number): FoldEvent {
  return {
    ...end,
    type: JobEventType.Started,
    dedupeKey: dedupeKey(JobEventType.Started, end.attempt, usToIso(startedUs)),
    occurredUs: startedUs,
    errorClass: null,
    errorMessage: null,
    errorBacktrace: null,
    willRetry: null,
    durationMs: null,
  };
}

const jobKey = (instance: string, jid: string) => `${instance}\u0000${jid}`;
/** One event of a job (its jobKey): events with the same key are copies of one another. */
const eventKey = (job: string, dedupeKey: string) => `${job}\u0000${dedupeKey}`;

function entryFor(
  jobs: Map<string, JobEvents>,
  key: string,
  instance: string,
  jid: string,
  id: string | null,
): JobEvents {
  let entry = jobs.get(key);
  if (!entry) {
    entry = { instance, jid, id, existed: id !== null, events: [], counted: 0, added: 0 };
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
