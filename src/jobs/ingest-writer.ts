import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { DomainError } from '../common/errors/domain-error.js';
import { AppConfig } from '../config/app-config.js';
import { isDatabaseUnavailable } from '../database/pg-errors.js';
import { type IngestEvent, parseTimestamp } from './ingest-event.js';
import { type FoldEvent, type FoldedJob, foldJob, usToIso } from './job-fold.js';
import {
  COPY_EVENTS_SQL,
  COPY_JOB_COLUMNS,
  COPY_JOBS_SQL,
  copyText,
  EVENT_COLUMNS,
  INSERT_EVENTS_SQL,
  JOB_COLUMNS,
  type JobRowValues,
  LOCK_JOBS_SQL,
  rowsParam,
  SELECT_EVENTS_SQL,
  UPSERT_JOBS_SQL,
} from './job-fold.sql.js';
import type { JobEventType } from './job-status.js';

interface Pending {
  events: IngestEvent[];
  resolve: (duplicates: boolean[]) => void;
  reject: (error: unknown) => void;
}

export interface FlushStats {
  requests: number;
  events: number;
  inserted: number;
  ms: number;
}

/**
 * Group commit: every request's events wait in one queue; up to `groupConcurrency` transactions
 * run at once, each taking everything queued (up to `groupMaxEvents`) and writing it with one COPY
 * of the new events and one of the new jobs' rows (or one upsert of the folded rows of jobs seen
 * before). A request is answered only after its transaction
 * commits, so an acknowledged event is durable; a busy server writes bigger groups, not more
 * transactions.
 */
@Injectable()
export class IngestWriter implements OnApplicationShutdown {
  private readonly logger = new Logger(IngestWriter.name);
  private readonly pool: pg.Pool;
  private queue: Pending[] = [];
  private queuedEvents = 0;
  private inFlight = 0;
  /** events of the running transactions: an upper bound of the advisory locks they hold */
  private lockingEvents = 0;
  private readonly listeners: ((stats: FlushStats) => void)[] = [];

  constructor(private readonly config: AppConfig) {
    this.pool = new pg.Pool({
      connectionString: config.databaseUrl,
      max: config.ingest.groupConcurrency,
      connectionTimeoutMillis: 3000,
      idleTimeoutMillis: 30_000,
    });
    // an idle client losing its connection (Postgres restart) must not crash the process
    this.pool.on('error', (error) =>
      this.logger.warn(`idle ingest connection lost: ${error.message}`),
    );
  }

  onFlush(listener: (stats: FlushStats) => void): void {
    this.listeners.push(listener);
  }

  /** Resolves, after commit, with one flag per event: true when it was already stored. */
  write(events: IngestEvent[]): Promise<boolean[]> {
    if (events.length === 0) {
      return Promise.resolve([]);
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ events, resolve, reject });
      this.queuedEvents += events.length;
      this.pump();
    });
  }

  /**
   * Starts groups while a connection is free and the lock budget has room: the running
   * transactions together hold at most `lockBudget` events' jobs' advisory locks. A group takes
   * up to `groupMaxEvents` and its share of the budget (`lockBudget / groupConcurrency`), so that
   * a backlog still runs `groupConcurrency` transactions at once; a request larger than that runs
   * alone in its group, and one larger than the whole budget runs when nothing else does.
   */
  private pump(): void {
    const { groupConcurrency, groupMaxEvents, lockBudget } = this.config.ingest;
    const share = Math.min(groupMaxEvents, Math.max(1, Math.floor(lockBudget / groupConcurrency)));
    while (this.inFlight < groupConcurrency && this.queue.length > 0) {
      const free = lockBudget - this.lockingEvents;
      if (this.inFlight > 0 && this.queue[0].events.length > free) {
        return; // a running group's commit frees its locks and pumps again
      }
      const room = Math.min(share, free);
      const group: Pending[] = [];
      let size = 0;
      while (this.queue.length > 0) {
        const next = this.queue[0];
        if (group.length > 0 && size + next.events.length > room) {
          break;
        }
        group.push(next);
        size += next.events.length;
        this.queue.shift();
      }
      this.queuedEvents -= size;
      this.lockingEvents += size;
      this.inFlight++;
      void this.flush(group).finally(() => {
        this.inFlight--;
        this.lockingEvents -= size;
        this.pump();
      });
    }
  }

  private async flush(group: Pending[]): Promise<void> {
    const started = performance.now();
    try {
      const events = group.length === 1 ? group[0].events : group.flatMap((p) => p.events);
      const stored = await this.commit(events);
      let newCount = 0;
      let offset = 0;
      for (const pending of group) {
        const duplicates = new Array<boolean>(pending.events.length);
        for (let i = 0; i < duplicates.length; i++) {
          const isNew = stored[offset + i];
          newCount += isNew ? 1 : 0;
          duplicates[i] = !isNew;
        }
        offset += duplicates.length;
        pending.resolve(duplicates);
      }
      this.emit({
        requests: group.length,
        events: events.length,
        inserted: newCount,
        ms: performance.now() - started,
      });
    } catch (error) {
      if (group.length > 1 && !isDatabaseUnavailable(error)) {
        // one request's data failed the whole group: write each request on its own so only the
        // faulty one fails (together they lock no more jobs than the group did)
        await Promise.all(group.map((p) => this.flush([p])));
        return;
      }
      const mapped = isDatabaseUnavailable(error)
        ? new DomainError('DATABASE_UNAVAILABLE', 'The database is unavailable; retry later')
        : error;
      if (!isDatabaseUnavailable(error)) {
        this.logger.error(error);
      }
      for (const pending of group) {
        pending.reject(mapped);
      }
    }
  }

  private emit(stats: FlushStats): void {
    for (const listener of this.listeners) {
      listener(stats);
    }
  }

  /**
   * One transaction; on the rare conflict the fast path cannot explain, the careful one. Resolves
   * with one flag per event: true when this transaction stored it (its first copy in the group).
   */
  private async commit(events: IngestEvent[]): Promise<boolean[]> {
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

  /** Lets queued and running groups commit (HTTP has stopped taking requests by now). */
  async onApplicationShutdown(): Promise<void> {
    const deadline = Date.now() + 10_000;
    while ((this.queue.length > 0 || this.inFlight > 0) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await this.pool.end();
  }
}

/** COPY ... FROM STDIN of `text` (copyText) on `client` (the writer's, or bench:ingest's ceiling). */
export async function copyIn(client: pg.ClientBase, sql: string, text: string): Promise<void> {
  await pipeline(Readable.from([text]), client.query(copyFrom(sql)));
}

interface StoredEventRow {
  instance: string;
  jid: string;
  type: string;
  dedupe_key: string;
  occurred_us: string;
  attempt: number;
  job_class: string | null;
  queue: string | null;
  arguments: string | null;
  wrapper_class: string | null;
  raw_arguments: string | null;
  active_job_id: string | null;
  has_payload: boolean;
  created_us: string | null;
  scheduled_us: string | null;
  hostname: string | null;
  pid: number | null;
  tid: string | null;
  error_class: string | null;
  error_message: string | null;
  error_backtrace: string | null;
  will_retry: boolean | null;
  duration_ms: number | null;
  restarted_as: string | null;
  restarted_from: string | null;
}

const UNIQUE_VIOLATION = '23505';

/**
 * The writer's statements as named (prepared) statements: each connection parses and plans them
 * once instead of for every group (planning the 27-column INSERT ... SELECT cost about as much
 * as executing it for a few hundred rows).
 */
function prepared(name: string, text: string, values: unknown[]): pg.QueryConfig {
  return { name: `ingest_${name}`, text, values };
}

interface JobEvents {
  instance: string;
  jid: string;
  events: FoldEvent[];
  /** it had stored events, so it has a row */
  existed: boolean;
  /** it got a new event in this transaction */
  touched: boolean;
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

function storedToFold(row: StoredEventRow): FoldEvent {
  return {
    type: row.type as JobEventType,
    dedupeKey: row.dedupe_key,
    occurredUs: Number(row.occurred_us),
    attempt: row.attempt,
    jobClass: row.job_class,
    queue: row.queue,
    arguments: row.arguments,
    wrapperClass: row.wrapper_class,
    rawArguments: row.raw_arguments,
    activeJobId: row.active_job_id,
    hasPayload: row.has_payload,
    createdUs: row.created_us === null ? null : Number(row.created_us),
    scheduledUs: row.scheduled_us === null ? null : Number(row.scheduled_us),
    hostname: row.hostname,
    pid: row.pid,
    tid: row.tid,
    errorClass: row.error_class,
    errorMessage: row.error_message,
    errorBacktrace: row.error_backtrace,
    willRetry: row.will_retry,
    durationMs: row.duration_ms,
    restartedAs: row.restarted_as,
    restartedFrom: row.restarted_from,
  };
}

/** What the fold reads of an event about to be stored: the same values Postgres would return. */
export function ingestToFold(e: IngestEvent): FoldEvent {
  return {
    type: e.type,
    dedupeKey: e.dedupeKey,
    occurredUs: isoToUs(e.occurredAt),
    attempt: e.attempt,
    jobClass: e.jobClass,
    queue: e.queue,
    arguments: e.arguments,
    wrapperClass: e.wrapperClass,
    rawArguments: e.rawArguments,
    activeJobId: e.activeJobId,
    hasPayload: e.payload !== null,
    createdUs: e.createdAt === null ? null : isoToUs(e.createdAt),
    scheduledUs: e.scheduledAt === null ? null : isoToUs(e.scheduledAt),
    hostname: e.hostname,
    pid: e.pid,
    tid: e.tid,
    errorClass: e.errorClass,
    errorMessage: e.errorMessage,
    errorBacktrace: e.errorBacktrace,
    willRetry: e.willRetry,
    durationMs: e.durationMs,
    restartedAs: e.restartedAs,
    restartedFrom: e.restartedFrom,
  };
}

const MICRO_ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;

/** An IngestEvent time (`2026-11-23T10:00:00.123456Z`, or any form parseTimestamp reads) → µs. */
export function isoToUs(iso: string): number {
  const micro = MICRO_ISO.test(iso) ? iso : parseTimestamp(iso);
  if (micro === null) {
    throw new Error(`not a timestamp: ${iso}`);
  }
  return Date.parse(micro.slice(0, 23) + 'Z') * 1000 + Number(micro.slice(23, 26));
}

// A job's times are often equal (a new job's first, last and enqueued time): format each once.
let lastUs = -1;
let lastIso = '';
function isoOf(us: number): string {
  if (us !== lastUs) {
    lastUs = us;
    lastIso = usToIso(us);
  }
  return lastIso;
}

const time = (us: number | null) => (us === null ? null : isoOf(us));

/** The row COPY_JOBS_SQL / UPSERT_JOBS_SQL write: times as microsecond ISO strings. */
export function toRow(instance: string, jid: string, job: FoldedJob): JobRowValues {
  return {
    instance,
    jid,
    jobClass: job.jobClass,
    queue: job.queue,
    arguments: job.arguments,
    wrapperClass: job.wrapperClass,
    rawArguments: job.rawArguments,
    activeJobId: job.activeJobId,
    payloadFrom: job.payloadFrom,
    status: job.status,
    attempt: job.attempt,
    createdAt: time(job.createdUs),
    enqueuedAt: time(job.enqueuedUs),
    scheduledAt: time(job.scheduledUs),
    startedAt: time(job.startedUs),
    completedAt: time(job.completedUs),
    failedAt: time(job.failedUs),
    hostname: job.hostname,
    pid: job.pid,
    tid: job.tid,
    errorClass: job.errorClass,
    errorMessage: job.errorMessage,
    // JSON text: both the stored events (error_backtrace::text) and new ones carry text
    errorBacktrace: job.errorBacktrace as string | null,
    willRetry: job.willRetry,
    durationMs: job.durationMs,
    restartedAs: job.restartedAs,
    restartedFrom: job.restartedFrom,
    eventCount: job.eventCount,
    firstEventAt: isoOf(job.firstUs),
    lastEventAt: isoOf(job.lastUs),
    payload: null,
  };
}
