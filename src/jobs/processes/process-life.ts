import { ProcessState, type ProcessEvent } from './process-event.js';

/**
 * What the events of one process life say together: one row of `processes`. Times are ISO 8601
 * with six fraction digits (so they compare as text).
 */
export interface ProcessLife {
  instance: string;
  identity: string;
  hostname: string | null;
  pid: number | null;
  tag: string | null;
  sidekiqVersion: string | null;
  clientVersion: string | null;
  concurrency: number | null;
  queues: string | null;
  startedAt: string | null;
  /** the latest event of any state: a shutdown is heard too */
  lastHeartbeatAt: string;
  quietAt: string | null;
  stoppedAt: string | null;
  lastEventAt: string;
  /** when the event that gave the descriptive fields (hostname ... queues) happened */
  describedAt: string | null;
}

const DESCRIPTIVE = ['tag', 'sidekiqVersion', 'clientVersion', 'concurrency', 'queues'] as const;

export function lifeOf(e: ProcessEvent): ProcessLife {
  const stopped = e.state === ProcessState.Shutdown || e.state === ProcessState.Exit;
  return {
    instance: e.instance,
    identity: e.identity,
    hostname: e.hostname,
    pid: e.pid,
    tag: e.tag,
    sidekiqVersion: e.sidekiqVersion,
    clientVersion: e.clientVersion,
    concurrency: e.concurrency,
    queues: e.queues,
    startedAt: e.startedAt ?? (e.state === ProcessState.Startup ? e.occurredAt : null),
    lastHeartbeatAt: e.occurredAt,
    quietAt: e.state === ProcessState.Quiet ? e.occurredAt : null,
    stoppedAt: stopped ? e.occurredAt : null,
    lastEventAt: e.occurredAt,
    describedAt: DESCRIPTIVE.some((k) => e[k] !== null) ? e.occurredAt : null,
  };
}

const earliest = (a: string | null, b: string | null) =>
  a === null ? b : b === null ? a : a < b ? a : b;
const latest = (a: string, b: string) => (a > b ? a : b);

/**
 * Two accounts of the same identity as one; the rules ProcessLifeRepository.record applies in SQL
 * to the stored row. A later start (a newer `started_at`) is a new life and replaces the older one;
 * events of an older life are then ignored. Within a life each time keeps its earliest (quiet,
 * stopped, started) or latest (heartbeat, last event) value, so a late heartbeat never undoes a
 * shutdown, and any order of the same events gives the same life. The descriptive fields come
 * together from the latest event that has any (two events of one microsecond: the first kept).
 */
export function mergeLives(a: ProcessLife, b: ProcessLife): ProcessLife {
  if (a.startedAt !== null && b.startedAt !== null && a.startedAt !== b.startedAt) {
    return a.startedAt > b.startedAt ? a : b;
  }
  // the description comes whole from the latest event that gave one (no order mixes two)
  const d =
    b.describedAt !== null && (a.describedAt === null || b.describedAt > a.describedAt) ? b : a;
  return {
    instance: a.instance,
    identity: a.identity,
    // the same in every event of an identity (hostname:pid:nonce): any fixed choice will do
    hostname:
      a.hostname === null || (b.hostname !== null && b.hostname > a.hostname)
        ? b.hostname
        : a.hostname,
    pid: a.pid === null || (b.pid !== null && b.pid > a.pid) ? b.pid : a.pid,
    tag: d.tag,
    sidekiqVersion: d.sidekiqVersion,
    clientVersion: d.clientVersion,
    concurrency: d.concurrency,
    queues: d.queues,
    describedAt: d.describedAt,
    startedAt: earliest(a.startedAt, b.startedAt),
    lastHeartbeatAt: latest(a.lastHeartbeatAt, b.lastHeartbeatAt),
    quietAt: earliest(a.quietAt, b.quietAt),
    stoppedAt: earliest(a.stoppedAt, b.stoppedAt),
    lastEventAt: latest(a.lastEventAt, b.lastEventAt),
  };
}

/** The events of a batch as one life per (instance, identity). */
export function livesOf(events: readonly ProcessEvent[]): ProcessLife[] {
  const byKey = new Map<string, ProcessLife>();
  for (const e of events) {
    const key = `${e.instance}\u0000${e.identity}`;
    const life = lifeOf(e);
    const seen = byKey.get(key);
    byKey.set(key, seen ? mergeLives(seen, life) : life);
  }
  return [...byKey.values()];
}

export enum ProcessStatus {
  Running = 'running',
  Quiet = 'quiet',
  Stopped = 'stopped',
  /** no heartbeat for longer than PROCESS_HEARTBEAT_TIMEOUT */
  Silent = 'silent',
}
export const PROCESS_STATUSES = Object.values(ProcessStatus);

export function statusOf(
  life: { stoppedAt: Date | null; quietAt: Date | null; lastHeartbeatAt: Date },
  silentBefore: Date,
): ProcessStatus {
  if (life.stoppedAt !== null) {
    return ProcessStatus.Stopped;
  }
  if (life.lastHeartbeatAt < silentBefore) {
    return ProcessStatus.Silent;
  }
  return life.quietAt !== null ? ProcessStatus.Quiet : ProcessStatus.Running;
}
