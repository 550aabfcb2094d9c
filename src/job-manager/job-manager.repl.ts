import type {
  DurationPage,
  JobManagerService,
  JobPage,
  QueryOptions,
  RestartOptions,
} from './job-manager.service.js';
import { inspect } from 'node:util';
import { type AuditEntry, bounded } from '../audit/audit-capture.js';
import { DomainError } from '../common/errors/domain-error.js';
import { describeFieldError } from '../common/validation/invalid.js';
import { MAX_OFFSET } from '../common/validation/paging.js';
import { Table } from './format.js';
import { restartAuditResult } from './restart-audit.js';

const JOB_COLUMNS = [
  'job_id',
  'status',
  'job_class',
  'queue',
  'arguments',
  'last_event_at',
] as const;
const DURATION_COLUMNS = ['job_id', 'job_class', 'arguments', 'completed_at', 'duration'] as const;

const HELP = `JobManager — jobs reported to Sidekiq Supervisor. Each command takes an optional string that
must occur in the job's arguments, and options { limit (≤ 1000, default 50), offset (≤ ${MAX_OFFSET}),
instance, from, to }.

  JobManager.queued_jobs('abc')                  latest status queued
  JobManager.uncompleted_jobs('abc')             latest status running (started, not finished)
  JobManager.completed_jobs('abc')               latest status succeeded
  JobManager.failed_jobs('abc')                  failed for good or dead
  JobManager.all_jobs('abc', { limit: 20 })      every job, newest first
  JobManager.queued_to_completion_duration('abc')  time from queued to completed
  JobManager.completed_jobs_duration('abc')        time from started to completed
  JobManager.lost_jobs('abc')                    started on a process that is over, not requeued
  JobManager.find('<jid>')                       one job: timeline and where Sidekiq holds it now
  JobManager.restart_uncompleted_jobs('abc', { dryRun: true })
                                                 re-enqueue jobs that never finished and that Sidekiq
                                                 no longer holds (options: dryRun, includeQueued,
                                                 minAgeSeconds, limit); safe to run twice
  JobManager.help                                this text

Results print as tables; the footer tells how to get the next page.
The data itself: (await JobManager.all_jobs()).rows`;

function jobTable(page: JobPage, command: string, filter: unknown): Table<JobPage['jobs'][number]> {
  return new Table(page.jobs, [...JOB_COLUMNS], footer(page, command, filter));
}

function footer(
  page: { limit: number; offset: number; next_offset: number | null },
  command: string,
  filter: unknown,
): string {
  const shown = page.offset + 1;
  const count =
    'jobs' in page ? (page as JobPage).jobs.length : (page as DurationPage).durations.length;
  const range = count > 0 ? `rows ${shown}–${page.offset + count}` : 'no rows';
  if (page.next_offset === null) {
    return `${range} (last page)`;
  }
  if (page.next_offset > MAX_OFFSET) {
    return `${range}; more rows follow past offset ${MAX_OFFSET}: narrow the window with { from, to }`;
  }
  const arg = filter === undefined || filter === null ? 'null' : JSON.stringify(filter);
  return `${range}; next page: JobManager.${command}(${arg}, { offset: ${page.next_offset}, limit: ${page.limit} })`;
}

/** Where the REPL's changes are recorded: AuditService.record (begin, change, finish). */
export interface ReplAudit {
  record<T>(
    entry: AuditEntry,
    change: () => Promise<T>,
    summarize: (value: T) => Record<string, unknown>,
  ): Promise<T>;
}

/**
 * The REPL's `JobManager` object: the seed's snake_case names over JobManagerService, printing
 * tables. Errors (bad arguments) are thrown with their message, which the REPL prints. Changes
 * (a restart, dry run or not) are recorded in the audit log as actor "repl" with `osUser` first,
 * and not made when that record cannot be written.
 */
export function createReplJobManager(service: JobManagerService, audit: ReplAudit, osUser: string) {
  const jobs =
    (command: string, method: (f?: string | null, o?: QueryOptions) => Promise<JobPage>) =>
    async (filter?: string | null, options?: QueryOptions) =>
      jobTable(await method.call(service, filter, options), command, filter);
  const durations =
    (command: string, method: (f?: string | null, o?: QueryOptions) => Promise<DurationPage>) =>
    async (filter?: string | null, options?: QueryOptions) => {
      const page = await method.call(service, filter, options);
      return new Table(page.durations, [...DURATION_COLUMNS], footer(page, command, filter));
    };
  return Object.freeze({
    queued_jobs: jobs('queued_jobs', service.queuedJobs),
    uncompleted_jobs: jobs('uncompleted_jobs', service.uncompletedJobs),
    completed_jobs: jobs('completed_jobs', service.completedJobs),
    failed_jobs: jobs('failed_jobs', service.failedJobs),
    all_jobs: jobs('all_jobs', service.allJobs),
    queued_to_completion_duration: durations(
      'queued_to_completion_duration',
      service.queuedToCompletionDuration,
    ),
    completed_jobs_duration: durations('completed_jobs_duration', service.completedJobsDuration),
    lost_jobs: jobs('lost_jobs', service.lostJobs),
    find: async (jid: string, instance?: string) => {
      const found = await service.find(jid, instance);
      const { job, sidekiq: where } = found;
      const summary = `${job.job_id} ${job.job_class ?? '?'} ${job.arguments ?? ''} — ${job.status}; Sidekiq: ${where.where}${where.queue ? ` ${where.queue}` : ''}${where.process ? ` on ${where.process}` : ''}`;
      const more = job.events_next_cursor
        ? `; later events: GET /api/v1/jobs/${job.job_id}?events_cursor=${job.events_next_cursor}`
        : '';
      return new Table(
        job.events,
        ['type', 'occurred_at', 'attempt', 'hostname', 'pid', 'error_class'],
        `${job.events.length} events${more}`,
        summary,
      );
    },
    restart_uncompleted_jobs: async (filter?: string | null, options?: RestartOptions) => {
      const report = await audit.record(
        {
          actor: { kind: 'repl', osUser },
          action: 'job_manager.restart',
          route: null,
          instance: typeof options?.instance === 'string' ? options.instance : null,
          clientAddress: null,
          userAgent: null,
          targets: {},
          options: bounded({ filter, ...options, instance: undefined }) as Record<string, unknown>,
        },
        () => service.restartUncompletedJobs(filter, options),
        restartAuditResult,
      );
      const summary = `${report.dry_run ? 'DRY RUN: would restart' : 'restarted'} ${report.restarted} of ${report.considered}; skipped ${report.skipped}`;
      return new Table(
        report.items,
        ['job_id', 'job_class', 'arguments', 'outcome', 'restarted_as', 'reason'],
        '',
        summary,
      );
    },
    // `JobManager.help` and `JobManager.help()` both print the help: the REPL shows a function
    // through inspect, which prints HELP here instead of [Function: help]
    help: Object.assign(() => printed(HELP), printed(HELP)),
    ...printed(HELP),
  });
}

/** Something the REPL prints as this text (no quotes, no escapes). */
function printed(text: string) {
  return { [inspect.custom]: () => text, toString: () => text };
}

/**
 * How the REPL shows a failed command: a DomainError as one line per field at fault (or its
 * message), without the stack, which points into our code and not at what the operator typed.
 * Other errors (bugs, outages) keep their stack.
 */
export function replError(error: unknown): Error {
  if (!(error instanceof DomainError)) {
    return error instanceof Error ? error : new Error(String(error));
  }
  const fields = Array.isArray(error.details?.errors)
    ? (error.details.errors as { field?: unknown; message?: unknown }[])
    : [];
  const lines =
    fields.length > 0
      ? fields.map(
          ({ field, message }) =>
            `${error.code}: ${describeFieldError({ field: String(field), message: String(message) })}`,
        )
      : [`${error.code}: ${error.message}`];
  const clean = new Error(lines.join('\n'));
  clean.stack = clean.message;
  return clean;
}
