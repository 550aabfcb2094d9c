import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DomainError } from '../../common/errors/domain-error.js';
import { TimestampFormat } from '../payload/job-record.js';
import { SidekiqAccessService } from '../sidekiq-access.service.js';
import type { SidekiqStore } from '../store/sidekiq.store.js';
import {
  buildSchedulerPush,
  decodeSchedulerEntry,
  nextStateText,
  type SchedulerDefinition,
} from './scheduler-definition.js';

export type { SchedulerDefinition, ScheduleType } from './scheduler-definition.js';

export interface SchedulerPage {
  readonly instance: string;
  readonly total: number;
  /** more than MAX_SCHEDULER_JOBS schedules: only the first ones by name are listed */
  readonly truncated: boolean;
  readonly definitions: SchedulerDefinition[];
}

export interface SchedulerEnqueued {
  readonly name: string;
  readonly jid: string;
  readonly queue: string;
  readonly enqueuedAt: Date;
}

// a toggle that meets another one in between reads the state again, at most this many times
const STATE_ATTEMPTS = 3;

/** What other modules need from sidekiq-scheduler: its schedules, enable/disable, enqueue now. */
@Injectable()
export class SidekiqSchedulerService {
  constructor(private readonly access: SidekiqAccessService) {}

  /** The instance's schedules by name, `offset`…`offset + limit` (one pipeline for the slice). */
  async page(instance: string | undefined, offset: number, limit: number): Promise<SchedulerPage> {
    const store = this.access.readable(instance);
    const { names, truncated } = await store.scheduler.names();
    const slice = offset >= names.length || limit <= 0 ? [] : names.slice(offset, offset + limit);
    const entries = await store.scheduler.entries(slice);
    return {
      instance: store.name,
      total: names.length,
      truncated,
      definitions: entries.flatMap((e) => decodeSchedulerEntry(e) ?? []),
    };
  }

  async all(instance: string): Promise<SchedulerPage> {
    return this.page(instance, 0, Number.MAX_SAFE_INTEGER);
  }

  /** 404 for an unknown instance, 403 READ_ONLY_MODE when changes are refused: before any read. */
  assertWritable(instance: string | undefined): void {
    this.access.writable(instance);
  }

  /** Whether the instance has a schedule of that name (the gem would find it). */
  async has(instance: string | undefined, name: string): Promise<boolean> {
    const store = this.access.readable(instance);
    const [entry] = await store.scheduler.entries([name]);
    return entry !== undefined && decodeSchedulerEntry(entry) !== null;
  }

  /**
   * The web UI's toggle to a given state (Scheduler#toggle_all_jobs's write for one job): the
   * stored state JSON with `enabled` set, in sidekiq-scheduler:states.
   */
  async setEnabled(
    instance: string | undefined,
    name: string,
    enabled: boolean,
  ): Promise<{ instance: string; definition: SchedulerDefinition }> {
    const store = this.access.writable(instance);
    for (let attempt = 0; attempt < STATE_ATTEMPTS; attempt++) {
      const def = await this.find(store, name);
      const outcome = await store.scheduler.setState(
        name,
        def.stateText,
        nextStateText(def.stateText, enabled),
      );
      if (outcome === 'gone') {
        throw this.notFound(name);
      }
      if (outcome === 'set') {
        return { instance: store.name, definition: await this.find(store, name) };
      }
    }
    throw new DomainError(
      'CONFLICT',
      `The state of sidekiq-scheduler job "${name}" kept changing; try again`,
      { name },
    );
  }

  /** The web UI's "Enqueue now" (Scheduler#enqueue_job of the stored schedule). */
  async enqueue(instance: string | undefined, name: string, now: Date): Promise<SchedulerEnqueued> {
    const store = this.access.writable(instance);
    const def = await this.find(store, name);
    const jid = randomBytes(12).toString('hex');
    const profile = await this.access.profile(store);
    const push = buildSchedulerPush(def, {
      jid,
      nowMs: now.getTime(),
      timestampFormat: usesMillis(profile.version)
        ? TimestampFormat.Millis
        : TimestampFormat.Seconds,
    });
    if ('error' in push) {
      throw new DomainError(
        'SIDEKIQ_OPERATION_NOT_ALLOWED',
        `sidekiq-scheduler job "${name}" cannot be enqueued: ${push.error}`,
        { name },
      );
    }
    if (!(await store.scheduler.push(name, push.queue, push.payload))) {
      throw this.notFound(name);
    }
    return { name, jid, queue: push.queue, enqueuedAt: now };
  }

  private async find(store: SidekiqStore, name: string): Promise<SchedulerDefinition> {
    const [entry] = await store.scheduler.entries([name]);
    const def = entry ? decodeSchedulerEntry(entry) : null;
    if (def === null) {
      throw this.notFound(name);
    }
    return def;
  }

  private notFound(name: string): DomainError {
    return new DomainError('PERIODIC_JOB_NOT_FOUND', `No sidekiq-scheduler job "${name}"`, {
      field: 'name',
    });
  }
}

/** Sidekiq 8 writes created_at/enqueued_at as integer milliseconds. */
function usesMillis(version: string | null | undefined): boolean {
  return typeof version === 'string' && Number(version.split('.')[0]) >= 8;
}
