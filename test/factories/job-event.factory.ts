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
