// Pure mapping of Sidekiq state to GitLab's Sidekiq Metrics API shapes
// (gitlab lib/api/sidekiq_metrics.rb), merged across Sidekiq instances as GitLab merges shards:
// backlog and job counts summed, latency the maximum, processes concatenated.

export interface QueueSample {
  name: string;
  size: number;
  /** fractional seconds */
  latency: number;
}

export interface ProcessSample {
  hostname: string | null;
  pid: number | null;
  tag: string | null;
  /** epoch seconds */
  started_at: number | null;
  queues: string[];
  labels: string[];
  concurrency: number | null;
  busy: number;
}

export interface StatsSample {
  processed: number;
  failed: number;
  enqueued: number;
  dead_size: number;
}

export interface GitlabQueueMetric {
  backlog: number;
  latency: number;
}

export interface GitlabProcessMetric {
  hostname: string | null;
  pid: number | null;
  tag: string | null;
  started_at: string | null;
  queues: string[];
  labels: string[];
  concurrency: number | null;
  busy: number;
}

export interface GitlabJobStats {
  processed: number;
  failed: number;
  enqueued: number;
  dead: number;
}

/** Queue name → backlog (Σ LLEN) and latency (max, whole seconds: Ruby's `latency.to_i`). */
export function mergeQueues(perInstance: QueueSample[][]): Record<string, GitlabQueueMetric> {
  const out: Record<string, GitlabQueueMetric> = {};
  for (const queues of perInstance) {
    for (const q of queues) {
      const latency = Math.max(0, Math.floor(q.latency));
      const seen = out[q.name];
      out[q.name] = seen
        ? { backlog: seen.backlog + q.size, latency: Math.max(seen.latency, latency) }
        : { backlog: q.size, latency };
    }
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** GitLab: `started_at: Time.at(process['started_at'])`, serialised as ISO 8601. */
export function toProcessMetric(p: ProcessSample): GitlabProcessMetric {
  return {
    hostname: p.hostname,
    pid: p.pid,
    tag: p.tag,
    started_at:
      p.started_at === null || !Number.isFinite(p.started_at)
        ? null
        : new Date(Math.round(p.started_at * 1000)).toISOString(),
    queues: p.queues,
    labels: p.labels,
    concurrency: p.concurrency,
    busy: p.busy,
  };
}

export function mergeProcesses(perInstance: ProcessSample[][]): GitlabProcessMetric[] {
  return perInstance.flat().map(toProcessMetric);
}

export function sumJobStats(perInstance: StatsSample[]): GitlabJobStats {
  return perInstance.reduce<GitlabJobStats>(
    (acc, s) => ({
      processed: acc.processed + s.processed,
      failed: acc.failed + s.failed,
      enqueued: acc.enqueued + s.enqueued,
      dead: acc.dead + s.dead_size,
    }),
    { processed: 0, failed: 0, enqueued: 0, dead: 0 },
  );
}
