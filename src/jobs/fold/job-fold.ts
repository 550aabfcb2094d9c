import { JobEventType, JobStatus } from '../job-lifecycle.enum.js';

/** What the fold reads of one stored event; times are microseconds since the epoch. */
export interface FoldEvent {
  type: JobEventType;
  dedupeKey: string;
  occurredUs: number;
  attempt: number;
  jobClass: string | null;
  queue: string | null;
  arguments: string | null;
  wrapperClass: string | null;
  rawArguments: string | null;
  activeJobId: string | null;
  hasPayload: boolean;
  createdUs: number | null;
  scheduledUs: number | null;
  hostname: string | null;
  pid: number | null;
  tid: string | null;
  errorClass: string | null;
  errorMessage: string | null;
  errorBacktrace: unknown;
  willRetry: boolean | null;
  durationMs: number | null;
  restartedAs: string | null;
  restartedFrom: string | null;
}

/** A job's row, derived from its events alone. */
export interface FoldedJob {
  jobClass: string | null;
  queue: string | null;
  arguments: string | null;
  wrapperClass: string | null;
  rawArguments: string | null;
  activeJobId: string | null;
  /** dedupe key of the event whose payload the row keeps */
  payloadFrom: string | null;
  /** when the earliest event carrying any identity field (class, queue, arguments, payload, the
   * Active Job wrapper) occurred; null when none does */
  identityUs: number | null;
  status: JobStatus;
  attempt: number;
  createdUs: number;
  enqueuedUs: number | null;
  scheduledUs: number | null;
  startedUs: number | null;
  completedUs: number | null;
  failedUs: number | null;
  hostname: string | null;
  pid: number | null;
  tid: string | null;
  errorClass: string | null;
  errorMessage: string | null;
  errorBacktrace: unknown;
  willRetry: boolean | null;
  durationMs: number | null;
  restartedAs: string | null;
  restartedFrom: string | null;
  eventCount: number;
  firstUs: number;
  lastUs: number;
}

// Phase order within one run: scheduled < queued < cancelled < started = interrupted < succeeded =
// failed < retrying < dead < restarted (JobManager's restart ends the job's story in this run).
// A cancel removes the job from Sidekiq's scheduled set, so nothing follows it; should a start
// still arrive (the job had been moved to its queue already), what ran wins over the cancel.
const RANK: Record<JobEventType, number> = {
  [JobEventType.Scheduled]: 0,
  [JobEventType.Queued]: 1,
  [JobEventType.Cancelled]: 1.5,
  [JobEventType.Started]: 2,
  [JobEventType.Interrupted]: 2,
  [JobEventType.Succeeded]: 3,
  [JobEventType.Failed]: 3,
  [JobEventType.Retrying]: 4,
  [JobEventType.Dead]: 5,
  [JobEventType.Restarted]: 6,
};

const WORKER_TYPES = new Set([
  JobEventType.Started,
  JobEventType.Succeeded,
  JobEventType.Failed,
  JobEventType.Interrupted,
]);
const ERROR_TYPES = new Set([JobEventType.Failed, JobEventType.Dead, JobEventType.Retrying]);

type Compare = (a: FoldEvent, b: FoldEvent) => number;
const byKey = (a: FoldEvent, b: FoldEvent) =>
  a.dedupeKey < b.dedupeKey ? -1 : a.dedupeKey > b.dedupeKey ? 1 : 0;
// Every comparator ends on dedupe_key, unique within a job: the orders are total, so the result
// never depends on the order events arrived in.
const earliest: Compare = (a, b) =>
  a.occurredUs - b.occurredUs || RANK[a.type] - RANK[b.type] || byKey(a, b);
const latest: Compare = (a, b) =>
  b.attempt - a.attempt ||
  RANK[b.type] - RANK[a.type] ||
  b.occurredUs - a.occurredUs ||
  byKey(b, a);
const latestInRun: Compare = (a, b) =>
  b.attempt - a.attempt ||
  b.occurredUs - a.occurredUs ||
  RANK[b.type] - RANK[a.type] ||
  byKey(b, a);

function best(events: FoldEvent[], compare: Compare, keep: (e: FoldEvent) => boolean) {
  let winner: FoldEvent | null = null;
  for (const e of events) {
    if (keep(e) && (winner === null || compare(e, winner) < 0)) {
      winner = e;
    }
  }
  return winner;
}

/** The event names the job: its class, queue, arguments, payload or Active Job wrapper. */
function hasIdentity(e: FoldEvent): boolean {
  return (
    e.jobClass !== null ||
    e.queue !== null ||
    e.arguments !== null ||
    e.hasPayload ||
    e.wrapperClass !== null ||
    e.rawArguments !== null ||
    e.activeJobId !== null
  );
}

function statusOf(e: FoldEvent): JobStatus {
  switch (e.type) {
    case JobEventType.Scheduled:
      return JobStatus.Scheduled;
    case JobEventType.Queued:
      return JobStatus.Queued;
    case JobEventType.Started:
      return JobStatus.Running;
    case JobEventType.Succeeded:
      return JobStatus.Succeeded;
    case JobEventType.Failed:
      return e.willRetry ? JobStatus.Retrying : JobStatus.Failed;
    case JobEventType.Retrying:
      return JobStatus.Retrying;
    case JobEventType.Dead:
      return JobStatus.Dead;
    case JobEventType.Interrupted:
      return JobStatus.Interrupted;
    case JobEventType.Restarted:
      return JobStatus.Restarted;
    case JobEventType.Cancelled:
      return JobStatus.Cancelled;
  }
}

function extreme(
  events: FoldEvent[],
  pick: (e: FoldEvent) => number | null,
  dir: 'min' | 'max',
): number | null {
  let out: number | null = null;
  for (const e of events) {
    const v = pick(e);
    if (v !== null && (out === null || (dir === 'min' ? v < out : v > out))) {
      out = v;
    }
  }
  return out;
}

const timeOf = (types: JobEventType[]) => (e: FoldEvent) =>
  types.includes(e.type) ? e.occurredUs : null;

/**
 * The job state machine: a pure function of the set of a job's events (at least one).
 * The latest run (attempt = retry_count + 1) decides the status; within a run the phase order
 * above, then time. Identity fields (class, queue, arguments, payload, the Active Job wrapper,
 * its raw arguments and Active Job's job_id) come from the earliest
 * event that has them; worker fields from the latest event of the latest run that names a worker;
 * error fields from the latest failure.
 */
export function foldJob(events: FoldEvent[]): FoldedJob {
  if (events.length === 0) {
    throw new Error('foldJob needs at least one event');
  }
  return events.length === 1 ? foldOne(events[0]) : foldEvents(events);
}

/**
 * foldEvents for a job's only event (most jobs in a batch are new): the same row, without the
 * general fold's closures and passes. job-fold.spec.ts checks the two agree for every type.
 */
function foldOne(e: FoldEvent): FoldedJob {
  const occurred = e.occurredUs;
  const type = e.type;
  const worker =
    WORKER_TYPES.has(type) && (e.hostname !== null || e.pid !== null || e.tid !== null);
  const error = ERROR_TYPES.has(type) && e.errorClass !== null;
  return {
    jobClass: e.jobClass,
    queue: e.queue,
    arguments: e.arguments,
    wrapperClass: e.wrapperClass,
    rawArguments: e.rawArguments,
    activeJobId: e.activeJobId,
    payloadFrom: e.hasPayload ? e.dedupeKey : null,
    identityUs: hasIdentity(e) ? occurred : null,
    status: statusOf(e),
    attempt: e.attempt,
    createdUs: e.createdUs === null ? occurred : Math.min(e.createdUs, occurred),
    enqueuedUs: type === JobEventType.Queued ? occurred : null,
    scheduledUs: e.scheduledUs,
    startedUs: type === JobEventType.Started ? occurred : null,
    completedUs: type === JobEventType.Succeeded ? occurred : null,
    failedUs: type === JobEventType.Failed || type === JobEventType.Dead ? occurred : null,
    hostname: worker ? e.hostname : null,
    pid: worker ? e.pid : null,
    tid: worker ? e.tid : null,
    errorClass: error ? e.errorClass : null,
    errorMessage: error ? e.errorMessage : null,
    errorBacktrace: error ? (e.errorBacktrace ?? null) : null,
    willRetry: error
      ? type === JobEventType.Retrying
        ? true
        : type === JobEventType.Dead
          ? false
          : e.willRetry
      : null,
    durationMs: e.durationMs,
    restartedAs: type === JobEventType.Restarted ? e.restartedAs : null,
    restartedFrom: e.restartedFrom,
    eventCount: 1,
    firstUs: occurred,
    lastUs: occurred,
  };
}

/** The general fold (any number of events; foldJob sends one event to foldOne). */
export function foldEvents(events: FoldEvent[]): FoldedJob {
  const first = (pick: (e: FoldEvent) => unknown) =>
    best(events, earliest, (e) => pick(e) !== null && pick(e) !== false);
  const status = best(events, latest, () => true)!;
  const worker = best(
    events,
    latestInRun,
    (e) => WORKER_TYPES.has(e.type) && (e.hostname !== null || e.pid !== null || e.tid !== null),
  );
  const error = best(events, latest, (e) => ERROR_TYPES.has(e.type) && e.errorClass !== null);
  const duration = best(events, latest, (e) => e.durationMs !== null);
  const firstUs = extreme(events, (e) => e.occurredUs, 'min')!;
  const createdUs = extreme(events, (e) => e.createdUs, 'min');
  return {
    jobClass: first((e) => e.jobClass)?.jobClass ?? null,
    queue: first((e) => e.queue)?.queue ?? null,
    arguments: first((e) => e.arguments)?.arguments ?? null,
    wrapperClass: first((e) => e.wrapperClass)?.wrapperClass ?? null,
    rawArguments: first((e) => e.rawArguments)?.rawArguments ?? null,
    activeJobId: first((e) => e.activeJobId)?.activeJobId ?? null,
    payloadFrom: first((e) => e.hasPayload)?.dedupeKey ?? null,
    identityUs: best(events, earliest, hasIdentity)?.occurredUs ?? null,
    status: statusOf(status),
    attempt: extreme(events, (e) => e.attempt, 'max')!,
    createdUs: createdUs === null ? firstUs : Math.min(createdUs, firstUs),
    enqueuedUs: extreme(events, timeOf([JobEventType.Queued]), 'min'),
    scheduledUs: extreme(events, (e) => e.scheduledUs, 'max'),
    startedUs: extreme(events, timeOf([JobEventType.Started]), 'max'),
    completedUs: extreme(events, timeOf([JobEventType.Succeeded]), 'max'),
    failedUs: extreme(events, timeOf([JobEventType.Failed, JobEventType.Dead]), 'max'),
    hostname: worker?.hostname ?? null,
    pid: worker?.pid ?? null,
    tid: worker?.tid ?? null,
    errorClass: error?.errorClass ?? null,
    errorMessage: error?.errorMessage ?? null,
    errorBacktrace: error?.errorBacktrace ?? null,
    willRetry: error
      ? error.type === JobEventType.Retrying
        ? true
        : error.type === JobEventType.Dead
          ? false
          : error.willRetry
      : null,
    durationMs: duration?.durationMs ?? null,
    restartedAs:
      best(events, latest, (e) => e.type === JobEventType.Restarted && e.restartedAs !== null)
        ?.restartedAs ?? null,
    restartedFrom: first((e) => e.restartedFrom)?.restartedFrom ?? null,
    eventCount: events.length,
    firstUs,
    lastUs: extreme(events, (e) => e.occurredUs, 'max')!,
  };
}
