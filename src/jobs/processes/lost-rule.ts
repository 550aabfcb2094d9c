// When a job that started and never finished is lost: one rule for JobManager's lost_jobs and
// restart, and the stuck detector. JobRepository's lost predicate (LIFE_DEAD_SQL) is its SQL twin.

/** What the rule needs of a process life (a row of `processes`). */
export interface LifeView {
  instance: string;
  identity: string;
  hostname: string | null;
  pid: number | null;
  startedAt: Date | null;
  lastHeartbeatAt: Date;
  stoppedAt: Date | null;
}

/** What the rule needs of a job's run. */
export interface RunView {
  instance: string;
  jid: string;
  hostname: string | null;
  pid: number | null;
  startedAt: Date | null;
  restartedAs: string | null;
}

export interface ProcessEvidence {
  /** processKey(hostname, pid) of every process in Sidekiq's processes set */
  live: ReadonlySet<string>;
  /** jids run now by a worker of a process that is not known dead */
  working: ReadonlySet<string>;
  /** the reported process lives (any order) */
  lives: readonly LifeView[];
  /** a life whose last heartbeat is older than this is silent */
  silentBefore: Date;
}

export type RunVerdict =
  | { lost: false }
  | { lost: true; basis: 'shutdown' | 'silent' | 'gone'; identity: string | null; reason: string };

export const processKey = (hostname: string, pid: number) => `${hostname}\u0000${pid}`;

/**
 * The evidence from what Sidekiq's Redis lists (its processes set, its workers) and the reported
 * lives. The worker entries of a process whose heartbeat stopped run nothing (they stay until its
 * key expires); one that said shutdown and still beats is finishing its jobs.
 */
export function processEvidence(
  processes: readonly { hostname: string | null; pid: number | null }[],
  workers: readonly { process: string; job: { jid?: string | null } }[],
  lives: readonly LifeView[],
  silentBefore: Date,
): ProcessEvidence {
  const over = new Set(
    lives.filter((l) => l.lastHeartbeatAt < silentBefore).map((l) => l.identity),
  );
  return {
    live: new Set(
      processes.flatMap((p) =>
        p.hostname !== null && p.pid !== null ? [processKey(p.hostname, p.pid)] : [],
      ),
    ),
    working: new Set(
      workers.flatMap((w) => (w.job.jid && !over.has(w.process) ? [w.job.jid] : [])),
    ),
    lives,
    silentBefore,
  };
}

// a job starts after its process; the process's start is the client's clock on the same host
export const LIFE_START_SLACK_MS = 1000;

/**
 * The life a run belongs to: of the lives with the run's hostname and pid, the latest that began
 * before the run (a container's pid 1 comes back under the same hostname).
 */
export function lifeOfRun(run: RunView, lives: readonly LifeView[]): LifeView | null {
  if (run.hostname === null || run.pid === null) {
    return null;
  }
  let best: LifeView | null = null;
  for (const l of indexOf(lives).get(workerKey(run.instance, run.hostname, run.pid)) ?? []) {
    if (
      l.startedAt !== null &&
      run.startedAt !== null &&
      l.startedAt.getTime() > run.startedAt.getTime() + LIFE_START_SLACK_MS
    ) {
      continue;
    }
    if (
      best === null ||
      (l.startedAt !== null && (best.startedAt === null || l.startedAt > best.startedAt))
    ) {
      best = l;
    }
  }
  return best;
}

const workerKey = (instance: string, hostname: string, pid: number) =>
  `${instance}\u0000${hostname}\u0000${pid}`;

// lives by worker, made once per list (the stuck detector judges up to 10,000 runs against one)
const INDEXES = new WeakMap<readonly LifeView[], Map<string, LifeView[]>>();

function indexOf(lives: readonly LifeView[]): Map<string, LifeView[]> {
  let index = INDEXES.get(lives);
  if (!index) {
    index = new Map();
    for (const l of lives) {
      if (l.hostname !== null && l.pid !== null) {
        const key = workerKey(l.instance, l.hostname, l.pid);
        index.set(key, [...(index.get(key) ?? []), l]);
      }
    }
    INDEXES.set(lives, index);
  }
  return index;
}

/** A life that ended: it said shutdown, or its heartbeat stopped. */
export function lifeIsDead(life: LifeView, silentBefore: Date): boolean {
  return life.stoppedAt !== null || life.lastHeartbeatAt < silentBefore;
}

/**
 * A run is lost when no live worker runs it, it was never restarted, and its process is over:
 * by its reported life when there is one (it said shutdown, or no heartbeat for longer than the
 * timeout: at once, without waiting for Sidekiq's 60 s process key), else by Sidekiq's processes
 * set (the process is not in it). Whether Sidekiq pushed it back to a queue is checked apart.
 */
export function judgeRun(run: RunView, evidence: ProcessEvidence): RunVerdict {
  if (run.restartedAs !== null || evidence.working.has(run.jid)) {
    return { lost: false };
  }
  if (run.hostname === null || run.pid === null) {
    return { lost: false };
  }
  const life = lifeOfRun(run, evidence.lives);
  if (life !== null) {
    if (life.stoppedAt !== null) {
      return {
        lost: true,
        basis: 'shutdown',
        identity: life.identity,
        reason: `process ${life.identity} said shutdown at ${life.stoppedAt.toISOString()}`,
      };
    }
    if (life.lastHeartbeatAt < evidence.silentBefore) {
      return {
        lost: true,
        basis: 'silent',
        identity: life.identity,
        reason: `no heartbeat from ${life.identity} since ${life.lastHeartbeatAt.toISOString()}`,
      };
    }
    return { lost: false };
  }
  if (evidence.live.has(processKey(run.hostname, run.pid))) {
    return { lost: false };
  }
  return {
    lost: true,
    basis: 'gone',
    identity: null,
    reason: `its process ${run.hostname}:${run.pid} has no heartbeat and is not in Sidekiq's processes`,
  };
}
