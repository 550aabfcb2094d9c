import { REDACTED } from '../common/redaction/redactor.js';
import type { RestartCandidate } from '../jobs/jobs.service.js';
import { judgeRun, type ProcessEvidence } from '../jobs/processes/lost-rule.js';
import { JobStatus } from '../jobs/job-lifecycle.enum.js';
import type { SidekiqJobLocation } from '../sidekiq/sidekiq-jobs.service.js';

/** Where Sidekiq holds a job now. */
export interface SidekiqWhereabouts {
  where: 'queue' | 'scheduled' | 'retry' | 'dead' | 'working' | 'nowhere';
  queue?: string;
  process?: string;
  thread?: string;
  /** epoch seconds (scheduled time, retry time, death time) */
  score?: number;
}

/**
 * What Sidekiq shows of its processes when a restart starts, with the process lives reported to
 * the service (ProcessEvidence: see lost-rule.ts).
 */
export type SidekiqWorld = ProcessEvidence;

export type SkipOutcome =
  | 'held_by_sidekiq'
  | 'process_alive'
  | 'already_restarted'
  | 'too_recent'
  | 'incomplete_record'
  | 'arguments_redacted';

export type RestartDecision =
  | { restart: true; jobClass: string; queue: string }
  | { restart: false; outcome: SkipOutcome; reason: string; restartedAs?: string };

export const INCOMPLETE_REASON = 'class, queue or arguments were never reported';
export const REDACTED_REASON =
  'its arguments were redacted before storage (README "Redaction"): pushed again they would not be the job\'s; re-enqueue it from the app';

/** Whether stored arguments lost a value to the redaction rules (the job cannot be pushed again). */
export const argumentsRedacted = (args: string) => args.includes(REDACTED);

export { processKey } from '../jobs/processes/lost-rule.js';

export function whereabouts(location: SidekiqJobLocation | null): SidekiqWhereabouts {
  if (!location) {
    return { where: 'nowhere' };
  }
  if (location.where === 'queue') {
    return { where: 'queue', queue: location.queue };
  }
  if (location.where === 'working') {
    return { where: 'working', process: location.process, thread: location.thread };
  }
  return { where: location.where, score: location.score };
}

const skip = (outcome: SkipOutcome, reason: string, restartedAs?: string): RestartDecision => ({
  restart: false,
  outcome,
  reason,
  ...(restartedAs ? { restartedAs } : {}),
});

/**
 * Whether a job that started (or was queued) and never finished is to be pushed again. Sidekiq is
 * asked where the job is (`locate`, a scan of its queues and sets) only once the record alone
 * does not settle it; jobs younger than `cutoffMs` are left to their heartbeat.
 */
export async function decideRestart(
  c: RestartCandidate,
  world: SidekiqWorld,
  cutoffMs: number,
  locate: () => Promise<SidekiqJobLocation | null>,
): Promise<RestartDecision> {
  if (c.restartedAs) {
    return skip('already_restarted', `restarted before as ${c.restartedAs}`, c.restartedAs);
  }
  const { jobClass, queue } = c;
  if (!jobClass || !queue || c.summary.arguments === null) {
    return skip('incomplete_record', INCOMPLETE_REASON);
  }
  // the preview's; the whole arguments are checked again before a push
  if (argumentsRedacted(c.summary.arguments)) {
    return skip('arguments_redacted', REDACTED_REASON);
  }
  if ((c.startedAt ?? c.enqueuedAt ?? c.lastEventAt).getTime() > cutoffMs) {
    return skip('too_recent', 'younger than minAgeSeconds');
  }
  const location = await locate();
  if (location) {
    const w = whereabouts(location);
    return skip(
      'held_by_sidekiq',
      `Sidekiq holds it: ${w.where}${w.queue ? ` ${w.queue}` : ''}${w.process ? ` on ${w.process}` : ''}`,
    );
  }
  if (c.status === JobStatus.Running && c.hostname !== null && c.pid !== null) {
    // locate() found no worker running it: the rule's own working set does not apply here
    const verdict = judgeRun(c, { ...world, working: new Set() });
    if (!verdict.lost) {
      return skip(
        'process_alive',
        `its process ${c.hostname}:${c.pid} is alive; it may have finished unreported`,
      );
    }
  }
  return { restart: true, jobClass, queue };
}
