import { randomBytes } from 'node:crypto';

/** A job as a Sidekiq client would push it; `extra` keys land after retry/queue, as class options do. */
export interface SidekiqJobSpec {
  jid: string;
  class: string;
  queue: string;
  retry: boolean | number;
  /** JSON text of the args array, written verbatim */
  argsJson: string;
  /** extra top-level keys (tags, bid, backtrace, wrapped, …), JSON values */
  extra: Record<string, unknown>;
  /** epoch ms */
  createdAtMs: number;
}

export const newJid = (): string => randomBytes(12).toString('hex');

export function makeSidekiqJob(overrides: Partial<SidekiqJobSpec> = {}): SidekiqJobSpec {
  return {
    jid: newJid(),
    class: 'HardJob',
    queue: 'default',
    retry: true,
    argsJson: '[1,"two",{"three":3.0}]',
    extra: {},
    createdAtMs: Date.now() - 60_000,
    ...overrides,
  };
}

/** An Active Job payload as Rails' Sidekiq adapter writes it (wrapper class, `wrapped`, one hash arg). */
export function makeActiveJob(
  jobClass: string,
  argumentsJson: string,
  overrides: Partial<SidekiqJobSpec> = {},
): SidekiqJobSpec {
  const queue = overrides.queue ?? 'default';
  return makeSidekiqJob({
    class: 'ActiveJob::QueueAdapters::SidekiqAdapter::JobWrapper',
    argsJson: `[{"job_class":${JSON.stringify(jobClass)},"job_id":"0b7c6a2e-1111-4000-8000-000000000002","provider_job_id":null,"queue_name":${JSON.stringify(queue)},"priority":null,"arguments":${argumentsJson},"executions":0,"exception_executions":{},"locale":"en","timezone":"UTC","enqueued_at":"2026-11-23T00:37:48.255Z"}]`,
    extra: { wrapped: jobClass },
    ...overrides,
  });
}
