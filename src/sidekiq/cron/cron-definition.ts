import { randomUUID } from 'node:crypto';
import {
  buildRepush,
  formatTimestamp,
  joinPairs,
  setPair,
  splitTopLevel,
} from '../payload/payload-edit.js';
import { TimestampFormat } from '../payload/job-record.js';

// The fields of a `cron_job:<name>` hash this service reads (sidekiq-cron 1.8 Job#to_hash).
export const CRON_FIELDS = [
  'name',
  'cron',
  'klass',
  'args',
  'message',
  'status',
  'last_enqueue_time',
  'description',
  'date_as_argument',
  'active_job',
  'queue_name_prefix',
  'queue_name_delimiter',
] as const;

export type CronHash = Record<(typeof CRON_FIELDS)[number], string | null>;

export type CronStatus = 'enabled' | 'disabled';

/** One sidekiq-cron job as the gem reads it back (Job.new of its hash). */
export interface CronDefinition {
  readonly name: string;
  readonly cron: string;
  readonly jobClass: string;
  /** the queue of the pushed payload: message's `queue`, else "default" (Job#initialize) */
  readonly queue: string;
  /** the `args` JSON text as stored ("[]" when none) */
  readonly argsText: string;
  readonly description: string | null;
  readonly status: CronStatus;
  readonly lastEnqueueTime: Date | null;
  readonly dateAsArgument: boolean;
  readonly activeJob: boolean;
  readonly queueNamePrefix: string | null;
  readonly queueNameDelimiter: string | null;
  /** the stored `message` JSON text ("{}" when none) */
  readonly messageText: string;
}

const TRUE = /^(true|t|yes|y|1)$/i; // Job#initialize's reading of boolean fields

const present = (value: string | null): string | null =>
  value === null || value === '' ? null : value;

/** "2026-12-04 21:13:49 +0000" (LAST_ENQUEUE_TIME_FORMAT), or an ISO time as the gem's fallback reads. */
export function parseEnqueueTime(text: string | null): Date | null {
  if (!present(text)) {
    return null;
  }
  const m = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}) ([+-]\d{2})(\d{2})$/.exec(text!);
  const date = new Date(m ? `${m[1]}T${m[2]}${m[3]}:${m[4]}` : text!);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** LAST_ENQUEUE_TIME_FORMAT (`%Y-%m-%d %H:%M:%S %z`) in UTC, as `enque!` writes it. */
export function formatEnqueueTime(at: Date): string {
  return `${at.toISOString().slice(0, 19).replace('T', ' ')} +0000`;
}

/**
 * A cron job's hash as the gem reads it, or null when it is not a job the gem would load
 * (Job.find answers nil: no hash, or no name, cron or class).
 */
export function decodeCronHash(hash: CronHash): CronDefinition | null {
  const name = present(hash.name);
  const cron = present(hash.cron);
  const jobClass = present(hash.klass);
  if (name === null || cron === null || jobClass === null) {
    return null;
  }
  const messageText = present(hash.message) ?? '{}';
  let queue = 'default';
  try {
    const message = JSON.parse(messageText) as { queue?: unknown };
    if (typeof message.queue === 'string' && message.queue !== '') {
      queue = message.queue;
    }
  } catch {
    // the gem would fail to load this job too; it still lists with the default queue
  }
  return {
    name,
    cron,
    jobClass,
    queue,
    argsText: present(hash.args) ?? '[]',
    description: present(hash.description),
    // Job#initialize: a missing status is "enabled"; enabled? is status == "enabled"
    status: hash.status === null || hash.status === 'enabled' ? 'enabled' : 'disabled',
    lastEnqueueTime: parseEnqueueTime(hash.last_enqueue_time),
    dateAsArgument: TRUE.test(hash.date_as_argument ?? ''),
    activeJob: TRUE.test(hash.active_job ?? ''),
    queueNamePrefix: present(hash.queue_name_prefix),
    queueNameDelimiter: present(hash.queue_name_delimiter),
    messageText,
  };
}

export interface CronPush {
  readonly queue: string;
  readonly payload: string;
}

export interface CronPushOptions {
  readonly jid: string;
  readonly nowMs: number;
  readonly timestampFormat: TimestampFormat;
}

/** Job#enqueue_args: the args, plus `Time.now.to_f` when date_as_argument. */
function enqueueArgsText(def: CronDefinition, nowMs: number): string {
  if (!def.dateAsArgument) {
    return def.argsText;
  }
  const inner = def.argsText.trim().replace(/^\[/, '').replace(/\]$/, '').trim();
  const now = formatTimestamp(nowMs, TimestampFormat.Seconds);
  return inner === '' ? `[${now}]` : `[${inner},${now}]`;
}

/**
 * The payload Job#enque! pushes from a process that cannot load the class (as this service
 * cannot): Sidekiq::Client.push of the stored message with `args` = enqueue_args, or for an
 * Active Job the wrapper message (active_job_message); then normalize_item's defaults, jid and
 * times (buildRepush). Null when the stored message is not a JSON object.
 */
export function buildCronPush(def: CronDefinition, options: CronPushOptions): CronPush | null {
  const args = enqueueArgsText(def, options.nowMs);
  let message: string;
  if (def.activeJob) {
    // Job#queue_name_with_prefix without ActiveJob loaded: the job's own prefix and delimiter
    const queue =
      def.queueNamePrefix === null
        ? def.queue
        : `${def.queueNamePrefix}${def.queueNameDelimiter ?? '_'}${def.queue}`;
    message =
      `{"class":"ActiveJob::QueueAdapters::SidekiqAdapter::JobWrapper",` +
      `"wrapped":${JSON.stringify(def.jobClass)},"queue":${JSON.stringify(queue)},` +
      `"description":${JSON.stringify(def.description)},` +
      `"args":[{"job_class":${JSON.stringify(def.jobClass)},"job_id":${JSON.stringify(randomUUID())},` +
      `"queue_name":${JSON.stringify(queue)},"arguments":${args}}]}`;
  } else {
    const pairs = splitTopLevel(def.messageText);
    if (pairs === null) {
      return null;
    }
    let withArgs = setPair(pairs, 'args', args);
    if (!withArgs.some((p) => p.name === 'class')) {
      withArgs = setPair(withArgs, 'class', JSON.stringify(def.jobClass));
    }
    message = joinPairs(withArgs);
  }
  return buildRepush(message, {
    decrementRetryCount: false,
    nowMs: options.nowMs,
    newJid: () => options.jid,
    timestampFormat: options.timestampFormat,
  });
}
