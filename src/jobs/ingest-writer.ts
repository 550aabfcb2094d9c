import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import pg from 'pg';
import { DomainError } from '../common/errors/domain-error.js';
import { AppConfig } from '../config/app-config.js';
import { isDatabaseUnavailable } from '../database/pg-errors.js';
import type { IngestEvent } from './ingest-event.js';
import { type FoldEvent, type FoldedJob, foldJob, usToIso } from './job-fold.js';
import {
  INSERT_EVENTS_SQL,
  LOCK_JOBS_SQL,
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
 * run at once, each taking everything queued (up to `groupMaxEvents`) and writing it with one
 * multi-row INSERT and one fold statement. A request is answered only after its transaction
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

  private pump(): void {
    while (this.inFlight < this.config.ingest.groupConcurrency && this.queue.length > 0) {
      const group: Pending[] = [];
      let size = 0;
      while (this.queue.length > 0) {
        const next = this.queue[0];
        if (group.length > 0 && size + next.events.length > this.config.ingest.groupMaxEvents) {
          break;
        }
        group.push(next);
        size += next.events.length;
        this.queue.shift();
      }
      this.queuedEvents -= size;
      this.inFlight++;
      void this.flush(group).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  private async flush(group: Pending[]): Promise<void> {
    const started = performance.now();
    try {
      const events = group.flatMap((p) => p.events);
      const inserted = await this.commit(events);
      const seen = new Set<string>();
      let newCount = 0;
      for (const pending of group) {
        pending.resolve(
          pending.events.map((e) => {
            const key = `${e.instance}\u0000${e.jid}\u0000${e.dedupeKey}`;
            const isNew = inserted.has(key) && !seen.has(key);
            seen.add(key);
            if (isNew) {
              newCount++;
            }
            return !isNew;
          }),
        );
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
        // faulty one fails
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

  /** One transaction: lock the jobs, insert new events, refold the jobs that got one. */
  private async commit(events: IngestEvent[]): Promise<Set<string>> {
    const client = await this.pool.connect();
    let broken = false;
    try {
      await client.query('begin');
      const instances = events.map((e) => e.instance);
      const jids = events.map((e) => e.jid);
      await client.query(LOCK_JOBS_SQL, [instances, jids]);
      const result = await client.query<{ instance: string; jid: string; dedupe_key: string }>(
        INSERT_EVENTS_SQL,
        [JSON.stringify(events)],
      );
      if (result.rows.length > 0) {
        // refold every job that got a new event, from all of its events
        const stored = await client.query<StoredEventRow>(SELECT_EVENTS_SQL, [
          result.rows.map((r) => r.instance),
          result.rows.map((r) => r.jid),
        ]);
        await client.query(UPSERT_JOBS_SQL, [JSON.stringify(foldAll(stored.rows).map(toRow))]);
      }
      await client.query('commit');
      return new Set(result.rows.map((r) => `${r.instance}\u0000${r.jid}\u0000${r.dedupe_key}`));
    } catch (error) {
      broken = isDatabaseUnavailable(error);
      await client.query('rollback').catch(() => {
        broken = true;
      });
      throw error;
    } finally {
      client.release(broken);
    }
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

type KeyedJob = FoldedJob & { instance: string; jid: string };

function foldAll(rows: StoredEventRow[]): KeyedJob[] {
  const byJob = new Map<string, { instance: string; jid: string; events: FoldEvent[] }>();
  for (const row of rows) {
    const key = `${row.instance}\u0000${row.jid}`;
    let entry = byJob.get(key);
    if (!entry) {
      entry = { instance: row.instance, jid: row.jid, events: [] };
      byJob.set(key, entry);
    }
    entry.events.push({
      type: row.type as JobEventType,
      dedupeKey: row.dedupe_key,
      occurredUs: Number(row.occurred_us),
      attempt: row.attempt,
      jobClass: row.job_class,
      queue: row.queue,
      arguments: row.arguments,
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
    });
  }
  return [...byJob.values()].map(({ instance, jid, events }) => ({
    instance,
    jid,
    ...foldJob(events),
  }));
}

/** The JSON row UPSERT_JOBS_SQL reads: times as microsecond ISO strings. */
function toRow(job: KeyedJob): Record<string, unknown> {
  const time = (us: number | null) => (us === null ? null : usToIso(us));
  return {
    instance: job.instance,
    jid: job.jid,
    jobClass: job.jobClass,
    queue: job.queue,
    arguments: job.arguments,
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
    errorBacktrace: job.errorBacktrace,
    willRetry: job.willRetry,
    durationMs: job.durationMs,
    restartedAs: job.restartedAs,
    restartedFrom: job.restartedFrom,
    eventCount: job.eventCount,
    firstEventAt: time(job.firstUs),
    lastEventAt: time(job.lastUs),
  };
}
