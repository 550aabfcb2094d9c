import type { LifecycleEventRow } from '../jobs/job-metrics.service.js';

export type Outcome = 'succeeded' | 'failed' | 'retried' | 'dead';

export interface LifecycleObservation {
  labels: { sidekiq_instance: string; job_class: string; queue: string };
  outcome?: Outcome;
  waitSeconds?: number;
  runSeconds?: number;
}

const OUTCOMES: Record<string, Outcome | undefined> = {
  succeeded: 'succeeded',
  failed: 'failed',
  retrying: 'retried',
  dead: 'dead',
};

/**
 * What one stored event adds to the lifecycle metrics: succeeded/failed/retrying/dead events
 * count as outcomes (a Sidekiq failure that will be retried reports "failed" then "retrying", so
 * it counts once in each); a start gives the queue wait, a success or failure the run time.
 */
export function observe(event: LifecycleEventRow): LifecycleObservation | null {
  const outcome = OUTCOMES[event.type];
  const wait =
    event.type === 'started' && event.waitSeconds !== null
      ? Math.max(0, event.waitSeconds)
      : undefined;
  const run =
    (event.type === 'succeeded' || event.type === 'failed') && event.runSeconds !== null
      ? Math.max(0, event.runSeconds)
      : undefined;
  if (!outcome && wait === undefined && run === undefined) {
    return null;
  }
  return {
    labels: {
      sidekiq_instance: event.instance,
      job_class: event.jobClass ?? 'unknown',
      queue: event.queue ?? 'unknown',
    },
    ...(outcome ? { outcome } : {}),
    ...(wait !== undefined ? { waitSeconds: wait } : {}),
    ...(run !== undefined ? { runSeconds: run } : {}),
  };
}
