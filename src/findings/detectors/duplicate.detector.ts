import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../config/app-config.js';
import {
  type ConcurrentRunRow,
  JobSignalsService,
  type RunEventRow,
} from '../../jobs/job-signals.service.js';
import type { FindingRow, Observation } from '../findings.repository.js';
import type { Detector, DetectorResult } from './detector.js';
import { at, worker } from './format.js';

/** One run of a job: from its started event to the event that ended it (null: not ended). */
export interface Run {
  startedAt: Date;
  hostname: string | null;
  pid: number | null;
  tid: string | null;
  endedAt: Date | null;
  outcome: string | null;
}

const ENDS = new Set(['succeeded', 'failed', 'interrupted', 'retrying', 'dead']);

const sameWorker = (a: { hostname: string | null; pid: number | null }, b: typeof a) =>
  a.hostname === b.hostname && a.pid === b.pid;

/**
 * The runs of one attempt from its starts and ends in time order: an end closes the open run of
 * its own worker thread when it names one, else the oldest open run.
 */
export function runsOf(events: readonly RunEventRow[]): Run[] {
  const runs: Run[] = [];
  for (const e of events) {
    if (e.type === 'started') {
      runs.push({
        startedAt: e.occurredAt,
        hostname: e.hostname,
        pid: e.pid,
        tid: e.tid,
        endedAt: null,
        outcome: null,
      });
      continue;
    }
    if (!ENDS.has(e.type)) {
      continue;
    }
    const open = runs.filter((r) => r.endedAt === null && r.startedAt <= e.occurredAt);
    const run =
      (e.hostname === null
        ? undefined
        : open.find((r) => sameWorker(r, e) && (e.tid === null || r.tid === e.tid))) ?? open[0];
    if (run) {
      run.endedAt = e.occurredAt;
      run.outcome = e.type;
    }
  }
  return runs.sort((a, b) => a.startedAt.getTime() - b.startedAt.getTime());
}

/**
 * The first pair of runs of one attempt that is a duplicate execution: a start while the run before
 * was not finished, or a start on another process. A run Sidekiq interrupted (pushed back to its
 * queue at shutdown) is followed by a legitimate second start.
 */
export function duplicatePair(runs: readonly Run[]): [Run, Run] | null {
  for (let i = 1; i < runs.length; i++) {
    const first = runs[i - 1]!;
    const second = runs[i]!;
    if (first.outcome === 'interrupted') {
      continue;
    }
    const overlapping = first.endedAt === null || first.endedAt > second.startedAt;
    const knownWorkers = first.hostname !== null && second.hostname !== null;
    if (overlapping || (knownWorkers && !sameWorker(first, second))) {
      return [first, second];
    }
  }
  return null;
}

const runEvidence = (r: Run) => ({
  started_at: r.startedAt.toISOString(),
  ended_at: r.endedAt?.toISOString() ?? null,
  outcome: r.outcome ?? 'running',
  hostname: r.hostname,
  pid: r.pid,
  tid: r.tid,
});

/**
 * Duplicate executions among the run events of some jobs (ordered by job, attempt and time). One
 * stays a finding while either run is still going or until its job has been quiet for `holdMs`.
 */
export function findDuplicates(
  events: readonly RunEventRow[],
  now: Date,
  holdMs: number,
): Observation[] {
  const groups = new Map<string, RunEventRow[]>();
  for (const e of events) {
    const key = `${e.jobId}\u0000${e.attempt}`;
    const group = groups.get(key);
    if (group) {
      group.push(e);
    } else {
      groups.set(key, [e]);
    }
  }
  const out: Observation[] = [];
  for (const group of groups.values()) {
    const runs = runsOf(group);
    const pair = duplicatePair(runs);
    if (pair === null) {
      continue;
    }
    const [first, second] = pair;
    const job = group[0]!;
    const going = first.endedAt === null || second.endedAt === null;
    if (!going && now.getTime() - job.lastEventAt.getTime() > holdMs) {
      continue;
    }
    const overlapping = first.endedAt === null || first.endedAt > second.startedAt;
    const run = job.attempt === 0 ? 'its first run' : `retry ${job.attempt}`;
    const how = overlapping
      ? 'while the first was still running'
      : `after the first had ${first.outcome} at ${at(first.endedAt!)}`;
    out.push({
      detector: 'duplicate',
      identity: `duplicate:${job.instance}:${job.jid}:${job.attempt}`,
      instance: job.instance,
      jobClass: job.jobClass,
      jid: job.jid,
      severity: 'warning',
      summary: `${run} started twice without a retry between: on ${worker(first.hostname, first.pid)} at ${at(first.startedAt)} and on ${worker(second.hostname, second.pid)} at ${at(second.startedAt)}, ${how}`,
      evidence: {
        kind: 'same_jid',
        attempt: job.attempt,
        overlapping,
        runs: [runEvidence(first), runEvidence(second)],
        runs_in_attempt: runs.length,
      },
    });
  }
  return out;
}

// runs named in one finding's evidence (the group's size is said whole)
const RUNS_SHOWN = 10;

/**
 * Runs of a class declared unique (DETECTOR_UNIQUE_CLASSES) going on at once with the same
 * arguments, from the running jobs that share them (grouped, oldest start first): one finding per
 * class and arguments while two or more of them run, the runs side by side.
 */
export function findConcurrentArguments(rows: readonly ConcurrentRunRow[]): Observation[] {
  const groups = new Map<string, ConcurrentRunRow[]>();
  for (const r of rows) {
    const key = `${r.instance}\u0000${r.jobClass}\u0000${r.argsDigest}`;
    const group = groups.get(key);
    if (group) {
      group.push(r);
    } else {
      groups.set(key, [r]);
    }
  }
  const out: Observation[] = [];
  for (const group of groups.values()) {
    if (group.length < 2) {
      continue; // the bound cut its group short
    }
    const [first, second] = group as [ConcurrentRunRow, ConcurrentRunRow];
    const since = (r: ConcurrentRunRow) => (r.startedAt ? ` since ${at(r.startedAt)}` : '');
    const others = group.length > 2 ? ` and ${group.length - 2} more` : '';
    out.push({
      detector: 'duplicate',
      identity: `duplicate:${first.instance}:args:${first.jobClass}:${first.argsDigest}`,
      instance: first.instance,
      jobClass: first.jobClass,
      jid: group[group.length - 1]!.jid,
      severity: 'warning',
      summary: `${group.length} runs of ${first.jobClass} with the same arguments at once, a class declared unique (DETECTOR_UNIQUE_CLASSES): ${first.jid} on ${worker(first.hostname, first.pid)}${since(first)} and ${second.jid} on ${worker(second.hostname, second.pid)}${since(second)}${others}`,
      evidence: {
        kind: 'same_arguments',
        arguments_preview: first.argsPreview,
        arguments_md5: first.argsDigest,
        running: group.length,
        runs: group.slice(0, RUNS_SHOWN).map((r) => ({
          jid: r.jid,
          started_at: r.startedAt?.toISOString() ?? null,
          hostname: r.hostname,
          pid: r.pid,
          tid: r.tid,
        })),
      },
    });
  }
  return out;
}

// jobs active in the window read per evaluation; running jobs of the unique classes read
const MAX_JOBS = 20_000;
const MAX_CONCURRENT_RUNS = 2_000;

/**
 * The same jid started twice in one attempt (two processes, or a start while the first ran), and
 * the same class and arguments running twice at once for the classes declared unique.
 */
@Injectable()
export class DuplicateDetector implements Detector {
  readonly name = 'duplicate' as const;

  constructor(
    private readonly signals: JobSignalsService,
    private readonly config: AppConfig,
  ) {}

  async evaluate(now: Date, open: readonly FindingRow[]): Promise<DetectorResult> {
    const { duplicateWindowSeconds, duplicateHoldSeconds } = this.config.detectors;
    const keep = open.flatMap((f) =>
      f.jid === null || f.evidence.kind === 'same_arguments'
        ? []
        : [{ instance: f.instance, jid: f.jid }],
    );
    const events = await this.signals.runEvents(
      new Date(now.getTime() - duplicateWindowSeconds * 1000),
      keep,
      MAX_JOBS,
    );
    const jobs = new Set(events.map((e) => e.jobId)).size;
    const concurrent = await this.signals.concurrentRuns(
      this.config.detectors.uniqueClasses,
      MAX_CONCURRENT_RUNS,
    );
    return {
      detector: this.name,
      observations: [
        ...findDuplicates(events, now, duplicateHoldSeconds * 1000),
        ...findConcurrentArguments(concurrent),
      ],
      // more than a bound: what lies beyond it went unread, its open findings stay open
      complete: jobs < MAX_JOBS && concurrent.length < MAX_CONCURRENT_RUNS,
    };
  }
}
