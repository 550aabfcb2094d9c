import { randomBytes } from 'node:crypto';

export function makeJid(): string {
  return randomBytes(12).toString('hex');
}

/** A lifecycle event body as the Ruby client sends it (snake_case). */
export function makeEvent(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'queued',
    job_id: makeJid(),
    occurred_at: new Date().toISOString(),
    job_class: 'HardWorker',
    queue: 'default',
    arguments: JSON.stringify([1, 'two', { three: 3 }]),
    ...overrides,
  };
}

export interface StartedJobSpec {
  jid: string;
  jobClass: string;
  queue: string;
  arguments: string;
  queuedAt: string;
  /** default: queuedAt */
  startedAt?: string;
  /** the process it started on; null: none reported */
  worker: { hostname: string; pid: number } | null;
  tid?: string;
}

/** A job's `queued` and `started` events as the Ruby client reports them. */
export function makeStartedJobEvents(spec: StartedJobSpec): Record<string, unknown>[] {
  return [
    {
      type: 'queued',
      job_id: spec.jid,
      job_class: spec.jobClass,
      queue: spec.queue,
      arguments: spec.arguments,
      occurred_at: spec.queuedAt,
    },
    {
      type: 'started',
      job_id: spec.jid,
      occurred_at: spec.startedAt ?? spec.queuedAt,
      ...(spec.worker ? { hostname: spec.worker.hostname, pid: spec.worker.pid } : {}),
      ...(spec.tid === undefined ? {} : { tid: spec.tid }),
    },
  ];
}

/**
 * The events of one whole run of `jobClass` that ended at `end` (queued and started a second
 * before, on worker-1), reported as the Ruby client does; `failed` carries a RuntimeError.
 */
export function makeFinishedRunEvents(
  jobClass: string,
  end: Date,
  outcome: string = 'succeeded',
): Record<string, unknown>[] {
  const jid = makeJid();
  return [
    ...makeStartedJobEvents({
      jid,
      jobClass,
      queue: 'default',
      arguments: '[]',
      queuedAt: new Date(end.getTime() - 1000).toISOString(),
      worker: { hostname: 'worker-1', pid: 1 },
    }),
    {
      type: outcome,
      job_id: jid,
      occurred_at: end.toISOString(),
      ...(outcome === 'failed' ? { error_class: 'RuntimeError', error_message: 'boom' } : {}),
    },
  ];
}
