import { MikroORM } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { DomainError } from '../common/errors/domain-error.js';
import { tryAdvisoryXactLock } from '../database/advisory-locks.js';
import { offsetProblem } from '../common/validation/paging.js';
import { parseDateTime } from '../common/validation/validators.js';
import type { JobDetailDto, JobResponseDto } from '../jobs/dto/job-response.dto.js';
import {
  type DurationKind,
  type JobFilter,
  JobsService,
  type RestartCandidate,
} from '../jobs/jobs.service.js';
import { JobStatus } from '../jobs/job-lifecycle.enum.js';
import { judgeRun, processEvidence } from '../jobs/processes/lost-rule.js';
import { ProcessLivesService } from '../jobs/processes/process-lives.service.js';
import { ProcessesService } from '../sidekiq/processes/processes.service.js';
import { SidekiqJobsService } from '../sidekiq/sidekiq-jobs.service.js';
import { TimestampFormat } from '../sidekiq/payload/job-record.js';
import { WorkersService } from '../sidekiq/workers/workers.service.js';
import { humanDuration } from './format.js';
import {
  argumentsRedacted,
  decideRestart,
  REDACTED_REASON,
  INCOMPLETE_REASON,
  type SidekiqWhereabouts,
  type SidekiqWorld,
  whereabouts,
} from './restart-decision.js';
import {
  INSTANCE_MESSAGE,
  isInstanceName,
  isJid,
  JID_MESSAGE,
} from '../common/validation/identifiers.js';
import { invalid } from '../common/validation/invalid.js';

export type { SidekiqWhereabouts } from './restart-decision.js';

export interface FoundJob {
  job: JobDetailDto;
  sidekiq: SidekiqWhereabouts;
}

export interface RestartOptions extends QueryOptions {
  /** list what would happen, change nothing */
  dryRun?: boolean;
  /** also restart jobs whose latest status is queued (default: only started/running and lost) */
  includeQueued?: boolean;
  /** leave jobs younger than this alone (default 60 s: a heartbeat may not show them yet) */
  minAgeSeconds?: number;
}

export type RestartOutcome =
  | 'restarted'
  | 'would_restart'
  | 'held_by_sidekiq'
  | 'process_alive'
  | 'already_restarted'
  | 'too_recent'
  | 'incomplete_record'
  | 'arguments_redacted';

export interface RestartItem {
  job_id: string;
  job_class: string | null;
  /** a preview, as in lists (see arguments_truncated); the restart pushes the whole value */
  arguments: string | null;
  arguments_truncated: boolean;
  outcome: RestartOutcome;
  /** the new jid, when restarted */
  restarted_as: string | null;
  /** why it was skipped, in words */
  reason: string | null;
}

export interface RestartReport {
  dry_run: boolean;
  considered: number;
  restarted: number;
  skipped: number;
  restarted_jids: string[];
  items: RestartItem[];
}

export interface LostJob extends JobResponseDto {
  /** why it is lost */
  reason: string;
}

export interface LostJobPage extends JobPage {
  jobs: LostJob[];
}

/** Paging and window options every query takes. */
export interface QueryOptions {
  /** rows per page, 1 to 1000 (default 50) */
  limit?: number;
  /** rows to skip (default 0) */
  offset?: number;
  /** Sidekiq instance name */
  instance?: string;
  /** last activity at or after (ISO 8601 or Date) */
  from?: string | Date;
  /** last activity before (ISO 8601 or Date) */
  to?: string | Date;
}

export interface JobPage {
  jobs: JobResponseDto[];
  limit: number;
  offset: number;
  /** offset of the next page, null on the last one */
  next_offset: number | null;
}

export interface JobDuration {
  job_id: string;
  job_class: string | null;
  queue: string | null;
  /** a preview (see arguments_truncated) */
  arguments: string | null;
  arguments_truncated: boolean;
  arguments_bytes: number | null;
  from: string | null;
  completed_at: string | null;
  duration_ms: number;
  duration: string;
}

export interface DurationPage {
  durations: JobDuration[];
  limit: number;
  offset: number;
  next_offset: number | null;
}

const MAX_LIMIT = 1000;
// entries of each queue read to find jobs Sidekiq pushed back (see requeued)
const REQUEUE_BUDGET = 10_000;

/**
 * The operator's API over reported jobs, with the original supervisor's names and meanings. Used
 * by the REPL (`JobManager.queued_jobs('abc')`) and by REST under /api/v1/job-manager. Every query
 * takes an optional substring matched against the job's arguments JSON text.
 */
@Injectable()
export class JobManagerService {
  constructor(
    private readonly jobs: JobsService,
    private readonly sidekiqJobs: SidekiqJobsService,
    private readonly processes: ProcessesService,
    private readonly workers: WorkersService,
    private readonly processLives: ProcessLivesService,
    private readonly orm: MikroORM,
  ) {}

  /** The job with its whole timeline, and where Sidekiq holds it now (queue, sets, a worker, or nowhere). */
  async find(jid: string, instance?: string): Promise<FoundJob> {
    if (!isJid(jid)) {
      throw invalid('job_id', JID_MESSAGE);
    }
    const job = await this.jobs.detail(jid, instance);
    // by the job's jid: `jid` may have been Active Job's job_id
    const location = await this.sidekiqJobs.locate(job.job_id, job.instance);
    return { job, sidekiq: whereabouts(location) };
  }

  /**
   * Jobs that started and never finished (running, or interrupted by a shutdown) on a Sidekiq
   * process that is over, that no live worker runs, that Sidekiq did not push back to a queue (or
   * a set) and that was not pushed again since. A process that reports its life (startup,
   * heartbeat, shutdown events) is over as soon as it says shutdown, or when its heartbeat has
   * stopped for longer than PROCESS_HEARTBEAT_TIMEOUT; one that does not is over once it is gone
   * from Sidekiq's processes set (its key expires 60 s after its last beat). `reason` says which.
   */
  async lostJobs(filter?: string | null, options: QueryOptions = {}): Promise<LostJobPage> {
    // interrupted: Sidekiq's shutdown stopped the run and pushes the job back to its queue; one
    // that is not there (nor run again since) is lost as well
    const query = toFilter([JobStatus.Running, JobStatus.Interrupted], filter, options);
    const world = await this.sidekiqWorld(query.instance);
    const jobs = await this.jobs.find({
      ...query,
      limit: query.limit + 1,
      lost: {
        live: [...world.live].map((key) => {
          const [hostname, pid] = key.split('\u0000');
          return { hostname, pid: Number(pid) };
        }),
        working: [...world.working],
        silentBefore: world.silentBefore,
      },
    });
    const page = jobs.slice(0, query.limit);
    const requeued = await this.requeued(page);
    // pushed again after the run started (a later queued event): it will run again
    const queuedAgain = await this.jobs.queuedAgain(
      page.map((j) => ({ instance: j.instance, jid: j.job_id })),
    );
    // the page's jobs are judged in full by the lives of their own processes (the query read
    // them from the table; world.lives holds the most recent ones only)
    const lives = await this.processLives.livesOfWorkers(
      page.flatMap((j) =>
        j.hostname !== null && j.pid !== null
          ? [{ instance: j.instance, hostname: j.hostname, pid: j.pid }]
          : [],
      ),
    );
    const lost: LostJob[] = [];
    for (const job of page) {
      const verdict = judgeRun(
        {
          instance: job.instance,
          jid: job.job_id,
          hostname: job.hostname,
          pid: job.pid,
          startedAt: job.started_at ? new Date(job.started_at) : null,
          restartedAs: job.restarted_as,
        },
        { ...world, lives },
      );
      const key = `${job.instance}\u0000${job.job_id}`;
      if (verdict.lost && !requeued.has(key) && !queuedAgain.has(key)) {
        lost.push({ ...job, reason: verdict.reason });
      }
    }
    return {
      jobs: lost,
      limit: query.limit,
      offset: query.offset,
      next_offset: jobs.length > query.limit ? query.offset + query.limit : null,
    };
  }

  /**
   * The jobs of a page that Sidekiq holds again: on shutdown it pushes the jobs in progress back
   * to their queue (BasicFetch#bulk_requeue, at the end a worker fetches from). Read as the stuck
   * detector reads waiting jobs: from each queue's oldest end, at most REQUEUE_BUDGET entries;
   * a job in a queue not read to its end counts as held (not called lost on a guess).
   */
  private async requeued(jobs: readonly JobResponseDto[]): Promise<Set<string>> {
    const held = new Set<string>();
    const byInstance = new Map<string, JobResponseDto[]>();
    for (const job of jobs) {
      byInstance.set(job.instance, [...(byInstance.get(job.instance) ?? []), job]);
    }
    for (const [instance, list] of byInstance) {
      const report = await this.sidekiqJobs.holdingsIfKnown(
        instance,
        list.map((j) => ({
          jid: j.job_id,
          queue: j.queue,
          since: Date.parse(j.enqueued_at ?? j.started_at ?? j.created_at ?? '') / 1000 || 0,
        })),
        REQUEUE_BUDGET,
      );
      if (report === null) {
        continue; // an instance no longer configured: nothing of it can be read
      }
      for (const job of list) {
        // a worker entry was judged by the lost rule (it may be a silent process's leftover)
        const where = report.held.get(job.job_id)?.where;
        if (
          (where !== undefined && where !== 'working') ||
          report.unread.includes(`queue:${job.queue}`)
        ) {
          held.add(`${instance}\u0000${job.job_id}`);
        }
      }
    }
    return held;
  }

  /**
   * Re-enqueues jobs that started (or, with includeQueued, were queued) and never finished, that
   * Sidekiq no longer holds. A new Sidekiq job (new jid, same class, queue and raw arguments,
   * `restarted_from` in its payload) is pushed to Redis first; only then is the old job marked
   * `restarted` with a link to the new jid — a crash between the two never loses a job, and a second
   * run restarts nothing twice. Skipped jobs are listed with the reason.
   */
  async restartUncompletedJobs(
    filter?: string | null,
    options: RestartOptions = {},
  ): Promise<RestartReport> {
    const { dryRun = false, includeQueued = false, minAgeSeconds = 60, ...rest } = options;
    if (typeof dryRun !== 'boolean' || typeof includeQueued !== 'boolean') {
      throw invalid('dryRun', 'dryRun and includeQueued must be true or false');
    }
    if (typeof minAgeSeconds !== 'number' || !Number.isFinite(minAgeSeconds) || minAgeSeconds < 0) {
      throw invalid('minAgeSeconds', 'must be a number of seconds ≥ 0');
    }
    const started = [JobStatus.Running, JobStatus.Interrupted];
    const statuses = includeQueued ? [...started, JobStatus.Queued] : started;
    const query = toFilter(statuses, filter, rest);
    return this.orm.em.fork().transactional(async (em) => {
      // one restart at a time across every copy of the service
      if (!(await tryAdvisoryXactLock(em, 'restart'))) {
        throw new DomainError('CONFLICT', 'Another restart is running; try again when it is done');
      }
      const candidates = await this.jobs.restartCandidates(query);
      const recent = await this.sidekiqWorld(query.instance);
      // each candidate is judged by the lives of its own process (world.lives: the recent ones)
      const world = {
        ...recent,
        lives: await this.processLives.livesOfWorkers(
          candidates.flatMap((c) =>
            c.hostname !== null && c.pid !== null
              ? [{ instance: c.instance, hostname: c.hostname, pid: c.pid }]
              : [],
          ),
        ),
      };
      const items: RestartItem[] = [];
      const cutoff = Date.now() - minAgeSeconds * 1000;
      for (const c of candidates) {
        items.push(await this.restartOne(c, world, cutoff, dryRun));
      }
      const restarted = items.filter(
        (i) => i.outcome === 'restarted' || i.outcome === 'would_restart',
      );
      return {
        dry_run: dryRun,
        considered: items.length,
        restarted: restarted.length,
        skipped: items.length - restarted.length,
        restarted_jids: items.flatMap((i) => (i.restarted_as ? [i.restarted_as] : [])),
        items,
      };
    });
  }

  private async restartOne(
    c: RestartCandidate,
    world: SidekiqWorld,
    cutoff: number,
    dryRun: boolean,
  ): Promise<RestartItem> {
    const item = (
      outcome: RestartOutcome,
      reason: string | null,
      restartedAs: string | null = null,
    ) => ({
      job_id: c.jid,
      job_class: c.jobClass,
      arguments: c.summary.arguments,
      arguments_truncated: c.summary.arguments_truncated,
      outcome,
      restarted_as: restartedAs,
      reason,
    });
    const decision = await decideRestart(c, world, cutoff, async () => {
      const location = await this.sidekiqJobs.locate(c.jid, c.instance);
      // the worker entries of a process whose heartbeat stopped run nothing (see sidekiqWorld)
      return location?.where === 'working' && !world.working.has(c.jid) ? null : location;
    });
    if (!decision.restart) {
      return item(decision.outcome, decision.reason, decision.restartedAs ?? null);
    }
    if (dryRun) {
      return item('would_restart', null);
    }
    // the whole values of this one job only: a page of candidates may hold many MB-sized ones
    const source = await this.jobs.restartSource(c.instance, c.jid);
    if (source.arguments === null) {
      return item('incomplete_record', INCOMPLETE_REASON);
    }
    if (argumentsRedacted(source.arguments)) {
      return item('arguments_redacted', REDACTED_REASON);
    }
    // an Active Job goes back as Sidekiq held it: its wrapper, with the wrapper's arguments
    const jobClass = source.wrapperClass ?? decision.jobClass;
    const pushed = await this.sidekiqJobs.push({
      jobClass,
      queue: decision.queue,
      argsJson: source.arguments,
      instance: c.instance,
      restartedFrom: c.jid,
      timestampFormat: usesMillis(source.payload)
        ? TimestampFormat.Millis
        : TimestampFormat.Seconds,
    });
    await this.jobs.recordRestart(
      { instance: c.instance, jid: c.jid, attempt: c.attempt },
      {
        jid: pushed.jid,
        jobClass,
        queue: decision.queue,
        arguments: source.arguments,
        payload: pushed.payload,
      },
    );
    return item('restarted', null, pushed.jid);
  }

  private async sidekiqWorld(instance?: string): Promise<SidekiqWorld> {
    const [processes, workers, lives] = await Promise.all([
      this.processes.list(instance),
      this.workers.list(instance),
      this.processLives.lives(instance),
    ]);
    return processEvidence(processes, workers, lives, this.processLives.silentBefore(new Date()));
  }

  /** Jobs whose latest status is queued. */
  queuedJobs(filter?: string | null, options: QueryOptions = {}): Promise<JobPage> {
    return this.page([JobStatus.Queued], filter, options);
  }

  /** Jobs whose latest status is running (started, never finished). */
  uncompletedJobs(filter?: string | null, options: QueryOptions = {}): Promise<JobPage> {
    return this.page([JobStatus.Running], filter, options);
  }

  /** Jobs whose latest status is succeeded. */
  completedJobs(filter?: string | null, options: QueryOptions = {}): Promise<JobPage> {
    return this.page([JobStatus.Succeeded], filter, options);
  }

  /** Jobs that failed for good (no retry) or died after their retries. */
  failedJobs(filter?: string | null, options: QueryOptions = {}): Promise<JobPage> {
    return this.page([JobStatus.Failed, JobStatus.Dead], filter, options);
  }

  /** Every job, newest first. */
  allJobs(filter?: string | null, options: QueryOptions = {}): Promise<JobPage> {
    return this.page([], filter, options);
  }

  /** Succeeded jobs with the time from queued to completed. */
  queuedToCompletionDuration(
    filter?: string | null,
    options: QueryOptions = {},
  ): Promise<DurationPage> {
    return this.durationPage('queued_to_completion', filter, options);
  }

  /** Succeeded jobs with the time from their (last) start to completed. */
  completedJobsDuration(filter?: string | null, options: QueryOptions = {}): Promise<DurationPage> {
    return this.durationPage('started_to_completion', filter, options);
  }

  private async page(statuses: string[], filter: unknown, options: QueryOptions): Promise<JobPage> {
    const query = toFilter(statuses, filter, options);
    const jobs = await this.jobs.find({ ...query, limit: query.limit + 1 });
    return {
      jobs: jobs.slice(0, query.limit),
      limit: query.limit,
      offset: query.offset,
      next_offset: jobs.length > query.limit ? query.offset + query.limit : null,
    };
  }

  private async durationPage(
    kind: DurationKind,
    filter: unknown,
    options: QueryOptions,
  ): Promise<DurationPage> {
    const query = toFilter([], filter, options);
    const rows = await this.jobs.durations(kind, { ...query, limit: query.limit + 1 });
    return {
      durations: rows.slice(0, query.limit).map((job) => ({
        job_id: job.job_id,
        job_class: job.job_class,
        queue: job.queue,
        arguments: job.arguments,
        arguments_truncated: job.arguments_truncated,
        arguments_bytes: job.arguments_bytes,
        from:
          kind === 'queued_to_completion' ? (job.enqueued_at ?? job.created_at) : job.started_at,
        completed_at: job.completed_at,
        duration_ms: job.elapsed_ms,
        duration: humanDuration(job.elapsed_ms),
      })),
      limit: query.limit,
      offset: query.offset,
      next_offset: rows.length > query.limit ? query.offset + query.limit : null,
    };
  }
}

function usesMillis(payload: string | null): boolean {
  const m = payload ? /"created_at":\s*(\d+(?:\.\d+)?)/.exec(payload) : null;
  return m !== null && Number(m[1]) > 1e11; // Sidekiq 8 writes integer milliseconds
}

function toTime(field: string, value: unknown): Date | undefined {
  if (value === undefined || value === null) {
    return undefined;
  }
  const date = value instanceof Date ? value : parseDateTime(value);
  if (!date || Number.isNaN(date.getTime())) {
    throw invalid(field, 'must be an ISO 8601 date-time or a Date');
  }
  return date;
}

/** The REPL runs no pipes: every argument is checked here. */
export function toFilter(statuses: string[], filter: unknown, options: unknown): JobFilter {
  if (filter !== undefined && filter !== null && typeof filter !== 'string') {
    throw invalid('filter', 'must be a string (a substring of the arguments) or omitted');
  }
  if (typeof filter === 'string' && filter.length > 1000) {
    throw invalid('filter', 'must be at most 1000 characters');
  }
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw invalid('options', 'must be an object like { limit: 50, offset: 0 }');
  }
  const o = (options ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (
      ![
        'limit',
        'offset',
        'instance',
        'from',
        'to',
        'dryRun',
        'includeQueued',
        'minAgeSeconds',
      ].includes(key)
    ) {
      throw invalid(key, 'is not an option (limit, offset, instance, from, to)');
    }
  }
  const limit = o.limit ?? 50;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw invalid('limit', `must be an integer from 1 to ${MAX_LIMIT}`);
  }
  const offset = o.offset ?? 0;
  const offsetFault = offsetProblem(offset);
  if (offsetFault) {
    throw invalid('offset', offsetFault);
  }
  if (o.instance !== undefined && !isInstanceName(o.instance)) {
    throw invalid('instance', INSTANCE_MESSAGE);
  }
  return {
    statuses,
    argumentsContain: typeof filter === 'string' && filter.length > 0 ? filter : undefined,
    instance: o.instance as string | undefined,
    from: toTime('from', o.from),
    to: toTime('to', o.to),
    limit,
    offset: offset as number,
  };
}
