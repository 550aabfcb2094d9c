import { EnsureRequestContext } from '@mikro-orm/core';
import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { DomainError } from '../common/errors/domain-error.js';
import {
  INSTANCE_MESSAGE,
  isInstanceName,
  isJid,
  JID_MESSAGE,
} from '../common/validation/identifiers.js';
import { type FieldError, invalid, invalidFields } from '../common/validation/invalid.js';
import { AppConfig } from '../config/app-config.js';
import { tryAdvisoryXactLock } from '../database/advisory-locks.js';
import { Redactor } from '../common/redaction/redactor.js';
import { batchItems } from './ingest/batch-body.js';
import type { IngestEvent } from './ingest/columns.js';
import { dedupeKey, parseEvent, type ParseContext } from './ingest/event-parser.js';
import { type FlushStats, IngestWriterService } from './ingest/ingest-writer.service.js';
import { storedJob } from './ingest/redaction.js';
import { toMicroIso } from './ingest/timestamps.js';
import { JobEventType } from './job-lifecycle.enum.js';
import { isProcessEvent, parseProcessEvent, type ProcessEvent } from './processes/process-event.js';
import { ProcessLivesService } from './processes/process-lives.service.js';
import {
  JobDetailDto,
  JobEventResponseDto,
  JobPageDto,
  JobResponseDto,
} from './dto/job-response.dto.js';
import { type EventPosition, JobEventRepository, TIMELINE_PAGE } from './job-event.repository.js';
import { Job } from './job.entity.js';
import {
  type DurationKind,
  type JobKey,
  JobRepository,
  type JobQuery,
  type JobStatusRow,
  type LostPredicate,
} from './job.repository.js';

export type { DurationKind, JobKey, JobStatusRow } from './job.repository.js';
export type { FlushStats } from './ingest/ingest-writer.service.js';

/** Filters for JobManager-style queries (offset pagination). */
export interface JobFilter {
  statuses?: string[];
  argumentsContain?: string;
  instance?: string;
  jobClass?: string;
  queue?: string;
  from?: Date;
  to?: Date;
  limit: number;
  offset: number;
  /** only lost jobs */
  lost?: LostPredicate;
}

/**
 * What JobManager needs to judge a job for a restart; the whole arguments and payload it pushes
 * are read one job at a time (restartSource).
 */
export interface RestartCandidate {
  instance: string;
  jid: string;
  status: string;
  attempt: number;
  jobClass: string | null;
  queue: string | null;
  hostname: string | null;
  pid: number | null;
  startedAt: Date | null;
  enqueuedAt: Date | null;
  lastEventAt: Date;
  restartedAs: string | null;
  summary: JobResponseDto;
}

export type JobWithDuration = JobResponseDto & { elapsed_ms: number };

export type EventContext = Omit<ParseContext, 'path' | 'now'>;

export interface ListJobsParams extends Omit<JobQuery, 'afterId' | 'limit'> {
  cursor?: string;
  limit?: number;
}

@Injectable()
export class JobsService {
  private readonly rejectedListeners: ((events: number) => void)[] = [];

  constructor(
    private readonly writer: IngestWriterService,
    private readonly jobs: JobRepository,
    private readonly jobEvents: JobEventRepository,
    private readonly config: AppConfig,
    private readonly processLives: ProcessLivesService,
    // used by @EnsureRequestContext when called outside HTTP (REPL, scheduler)
    private readonly em: EntityManager,
  ) {}

  /**
   * Records a restart in one commit: the old job gets a `restarted` event linking the new jid, the
   * new job a `queued` event with the payload pushed to Sidekiq and a link back.
   */
  async recordRestart(
    old: { instance: string; jid: string; attempt: number },
    created: { jid: string; jobClass: string; queue: string; arguments: string; payload: string },
  ): Promise<void> {
    const now = toMicroIso(new Date());
    await this.writer.write([
      serverEvent(
        this.config.redactor,
        old.instance,
        old.jid,
        JobEventType.Restarted,
        old.attempt,
        now,
        {
          restartedAs: created.jid,
        },
      ),
      serverEvent(this.config.redactor, old.instance, created.jid, JobEventType.Queued, 0, now, {
        jobClass: created.jobClass,
        queue: created.queue,
        arguments: created.arguments,
        payload: created.payload,
        restartedFrom: old.jid,
      }),
    ]);
  }

  /**
   * Records that a scheduled job was taken out of Sidekiq before it ran (the cancel route), with
   * what Sidekiq's entry said of it, so a job we never heard of still gets a readable row.
   */
  async recordCancel(
    instance: string,
    jid: string,
    identity: {
      jobClass: string | null;
      queue: string | null;
      arguments: string | null;
      payload: string | null;
    },
  ): Promise<void> {
    const now = toMicroIso(new Date());
    await this.writer.write([
      serverEvent(this.config.redactor, instance, jid, JobEventType.Cancelled, 0, now, {
        ...identity,
      }),
    ]);
  }

  /**
   * Retention of job summaries: deletes the job rows whose last activity is before `cutoff` (their
   * events go with their partitions, EventPartitions: EVENT_RETENTION_DAYS is at most
   * JOB_RETENTION_DAYS),
   * `batch` jobs per transaction, until none is left. Each transaction first takes the retention
   * advisory lock without waiting (one copy of the service prunes; the others answer null, as
   * does this one when another copy holds it), then each job's ingest lock, the one the writer
   * takes: a job that got an event meanwhile is no longer old enough, and is kept whole.
   * Returns how many jobs went, or null when another copy was pruning.
   */
  async pruneOlderThan(cutoff: Date, batch: number): Promise<number | null> {
    let total = 0;
    for (;;) {
      const pass = await this.em.fork().transactional(async (em) => {
        if (!(await tryAdvisoryXactLock(em, 'retention'))) {
          return null;
        }
        const jobs = em.getRepository(Job);
        const old = await jobs.idleBefore(cutoff, batch);
        if (old.length === 0) {
          return { found: 0, deleted: 0 };
        }
        await jobs.lockForIngest(old);
        const deleted = await jobs.deleteIdleBefore(old, cutoff);
        return { found: old.length, deleted: deleted.length };
      });
      if (pass === null) {
        return total === 0 ? null : total;
      }
      total += pass.deleted;
      if (pass.found < batch) {
        return total;
      }
    }
  }

  @EnsureRequestContext()
  async restartCandidates(filter: JobFilter): Promise<RestartCandidate[]> {
    const rows = await this.jobs.search(filter);
    return rows.map((job) => ({
      instance: job.instance,
      jid: job.jid,
      status: job.status,
      attempt: job.attempt,
      jobClass: job.jobClass,
      queue: job.queue,
      hostname: job.hostname,
      pid: job.pid,
      startedAt: job.startedAt,
      enqueuedAt: job.enqueuedAt,
      lastEventAt: job.lastEventAt,
      restartedAs: job.restartedAs,
      summary: JobResponseDto.from(job),
    }));
  }

  /**
   * The whole arguments and payload of one job, to push it again: for an Active Job its Sidekiq
   * wrapper class and the wrapper's arguments.
   */
  restartSource(
    instance: string,
    jid: string,
  ): Promise<{ arguments: string | null; wrapperClass: string | null; payload: string | null }> {
    return this.jobs.restartSource(instance, jid);
  }

  /** What sidekiq-status's view shows of the jobs with these jids, in one instance or all. */
  statusesOf(jids: string[], instance: string | null): Promise<JobStatusRow[]> {
    return jids.length === 0 ? Promise.resolve([]) : this.jobs.statusRows(jids, instance);
  }

  /** Status and last event time of those of these jobs that exist. */
  lastActivity(keys: JobKey[]): Promise<(JobKey & { status: string; lastEventAt: Date })[]> {
    return this.jobs.lastActivity(keys);
  }

  @EnsureRequestContext()
  async find(filter: JobFilter): Promise<JobResponseDto[]> {
    const rows = await this.jobs.search(filter);
    return rows.map((job) => JobResponseDto.from(job));
  }

  @EnsureRequestContext()
  async durations(kind: DurationKind, filter: JobFilter): Promise<JobWithDuration[]> {
    const rows = await this.jobs.durations(kind, filter);
    return rows.map(({ job, durationMs }) => ({
      ...JobResponseDto.from(job),
      elapsed_ms: durationMs,
    }));
  }

  /** Called after each group commit (metrics). */
  onFlush(listener: (stats: FlushStats) => void): void {
    this.writer.onFlush(listener);
  }

  /** Called with the number of events each refused request carried (metrics). */
  onRejected(listener: (events: number) => void): void {
    this.rejectedListeners.push(listener);
  }

  private reject(events: number, error: DomainError): DomainError {
    this.rejectedListeners.forEach((listener) => listener(events));
    return error;
  }

  /** Of these jobs, those pushed again (queued) after their current run started. */
  async queuedAgain(keys: readonly JobKey[]): Promise<Set<string>> {
    const again = await this.jobEvents.queuedAgain(keys);
    return new Set(again.map((k) => `${k.instance}\u0000${k.jid}`));
  }

  /** Validates and commits one event; resolves after commit. */
  async recordEvent(
    raw: unknown,
    ctx: EventContext,
  ): Promise<{ event: IngestEvent; duplicate: boolean }> {
    const parsed = parseEvent(raw ?? {}, {
      ...ctx,
      path: '',
      now: new Date(),
      redactor: this.config.redactor,
    });
    if (parsed.errors) {
      throw this.reject(1, invalidFields(parsed.errors));
    }
    const [duplicate] = await this.writer.write(
      parsed.started ? [parsed.event, parsed.started] : [parsed.event],
    );
    return { event: parsed.event, duplicate };
  }

  /** All or nothing: one invalid event rejects the batch before anything is written. */
  async recordBatch(
    raw: unknown,
    form: boolean,
  ): Promise<{ accepted: number; duplicates: number }> {
    // faults of the body's shape and of each event are reported together
    const { items, errors } = batchItems(raw);
    if (items.length > this.config.ingest.maxBatch) {
      throw this.reject(
        items.length,
        new DomainError(
          'PAYLOAD_TOO_LARGE',
          `At most ${this.config.ingest.maxBatch} events per request (got ${items.length})`,
          { field: 'events', max: this.config.ingest.maxBatch },
        ),
      );
    }
    const now = new Date();
    const events: IngestEvent[] = [];
    const derived: IngestEvent[] = [];
    const processEvents: ProcessEvent[] = [];
    for (const { raw: item, path } of items) {
      if (isProcessEvent(item)) {
        const parsed = parseProcessEvent(item as Record<string, unknown>, { path, form, now });
        if (parsed.errors) {
          errors.push(...parsed.errors);
        } else {
          processEvents.push(parsed.event);
        }
        continue;
      }
      const parsed = parseEvent(item, { path, form, now, redactor: this.config.redactor });
      if (parsed.errors) {
        errors.push(...parsed.errors);
      } else {
        events.push(parsed.event);
        if (parsed.started) {
          derived.push(parsed.started);
        }
      }
    }
    if (errors.length > 0) {
      throw this.reject(Math.max(items.length, 1), invalidFields(errors.slice(0, 100)));
    }
    // process lives merge idempotently: a batch retried after a failed job write changes nothing
    await this.processLives.record(processEvents);
    // started events derived from started_at are written too, but not counted in the answer
    const flags =
      events.length + derived.length > 0
        ? await this.writer.write(derived.length > 0 ? [...events, ...derived] : events)
        : [];
    let duplicates = 0;
    for (let i = 0; i < events.length; i++) {
      duplicates += flags[i] ? 1 : 0;
    }
    return { accepted: events.length + processEvents.length, duplicates };
  }

  async list(params: ListJobsParams): Promise<JobPageDto> {
    const limit = params.limit ?? 50;
    const rows = await this.jobs.search({
      ...params,
      afterId: params.cursor ? decodeCursor(params.cursor) : undefined,
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      jobs: page.map((job) => JobResponseDto.from(job)),
      next_cursor: rows.length > limit && last ? encodeCursor(last.id) : null,
    };
  }

  /**
   * The job with its arguments and error message whole, and its timeline from the start (or after
   * `eventsCursor`), at most TIMELINE_PAGE events a page.
   */
  @EnsureRequestContext()
  async detail(jid: string, instance?: string, eventsCursor?: string): Promise<JobDetailDto> {
    const errors: FieldError[] = [];
    if (!isJid(jid)) {
      errors.push({ field: 'job_id', message: JID_MESSAGE });
    }
    if (instance !== undefined && !isInstanceName(instance)) {
      errors.push({ field: 'instance', message: INSTANCE_MESSAGE });
    }
    const afterEvent = eventsCursor === undefined ? undefined : decodeEventCursor(eventsCursor);
    if (afterEvent === null) {
      errors.push({ field: 'events_cursor', message: 'is not a cursor returned by this API' });
    }
    if (errors.length > 0) {
      throw invalidFields(errors);
    }
    const job = await this.jobs.findByJid(jid, instance);
    const events = await this.jobEvents.timeline(job, afterEvent ?? undefined);
    const page = events.slice(0, TIMELINE_PAGE);
    const expired =
      afterEvent === undefined && events.length <= TIMELINE_PAGE && events.length >= job.eventCount
        ? 0
        : Math.max(0, job.eventCount - (await this.jobEvents.storedCount(job)));
    return {
      ...JobResponseDto.from(job),
      arguments: job.arguments,
      arguments_truncated: false,
      error_message: job.errorMessage,
      error_message_truncated: false,
      payload: job.payload,
      raw_arguments: job.rawArguments,
      events: page.map((e) => JobEventResponseDto.from(e, job.queue)),
      events_next_cursor:
        events.length > TIMELINE_PAGE ? encodeEventCursor(page[page.length - 1]) : null,
      events_expired: expired,
    };
  }
}

function encodeEventCursor(event: EventPosition): string {
  return Buffer.from(`e:${event.id}:${event.part}`).toString('base64url');
}

function decodeEventCursor(cursor: string): EventPosition | null {
  const text = /^[A-Za-z0-9_-]{1,200}$/.test(cursor)
    ? Buffer.from(cursor, 'base64url').toString()
    : '';
  // `e:<id>` from before a row could stand for two events: its own event
  const m = /^e:(\d{1,19})(?::([01]))?$/.exec(text);
  return m ? { id: m[1], part: m[2] === '0' ? 0 : 1 } : null;
}

function encodeCursor(id: string): string {
  return Buffer.from(`j:${id}`).toString('base64url');
}

function decodeCursor(cursor: string): string {
  const text = Buffer.from(cursor, 'base64url').toString();
  const id = text.startsWith('j:') ? text.slice(2) : '';
  if (!/^\d{1,19}$/.test(id)) {
    throw invalid('cursor', 'is not a cursor returned by this API');
  }
  return id;
}

/**
 * An event the service writes itself (restart, cancel); fields not given are null. An Active Job
 * (Sidekiq's wrapper class and arguments) is unwrapped as at ingest.
 */
function serverEvent(
  redactor: Redactor,
  instance: string,
  jid: string,
  type: JobEventType,
  attempt: number,
  occurredAt: string,
  fields: Partial<
    Pick<
      IngestEvent,
      'jobClass' | 'queue' | 'arguments' | 'payload' | 'restartedAs' | 'restartedFrom'
    >
  >,
): IngestEvent {
  // what Sidekiq held (a cancelled entry) is redacted like a client's report
  const stored = storedJob(redactor, {
    jobClass: fields.jobClass ?? null,
    arguments: fields.arguments ?? null,
    payload: fields.payload ?? null,
  });
  return {
    jobId: null,
    startedAt: null,
    instance,
    jid,
    type,
    occurredAt,
    clientTime: true,
    attempt,
    retryCount: null,
    jobClass: stored.jobClass,
    queue: fields.queue ?? null,
    arguments: stored.arguments,
    payload: stored.payload,
    wrapperClass: stored.wrapperClass,
    rawArguments: stored.rawArguments,
    activeJobId: stored.activeJobId,
    enqueuedAt: null,
    createdAt: null,
    scheduledAt: null,
    hostname: null,
    pid: null,
    tid: null,
    errorClass: null,
    errorMessage: null,
    errorBacktrace: null,
    willRetry: null,
    durationMs: null,
    restartedAs: fields.restartedAs ?? null,
    restartedFrom: fields.restartedFrom ?? null,
    dedupeKey: dedupeKey(type, attempt, occurredAt),
  };
}
