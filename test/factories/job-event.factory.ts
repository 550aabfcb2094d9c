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
