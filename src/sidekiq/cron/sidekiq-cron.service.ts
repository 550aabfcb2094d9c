import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DomainError } from '../../common/errors/domain-error.js';
import { TimestampFormat } from '../payload/job-record.js';
import { SidekiqAccessService } from '../sidekiq-access.service.js';
import type { SidekiqStore } from '../store/sidekiq.store.js';
import {
  buildCronPush,
  type CronDefinition,
  type CronStatus,
  decodeCronHash,
  formatEnqueueTime,
} from './cron-definition.js';

export type { CronDefinition, CronStatus } from './cron-definition.js';

export interface CronPage {
  /** the instance's name (the default one when none was asked for) */
  readonly instance: string;
  readonly total: number;
  /** the instance has more than MAX_CRON_JOBS cron jobs: only the first ones are listed */
  readonly truncated: boolean;
  readonly definitions: CronDefinition[];
}

export interface CronEnqueued {
  readonly name: string;
  readonly jid: string;
  readonly queue: string;
  readonly lastEnqueueTime: Date;
}

/** What other modules need from sidekiq-cron: its job definitions, enable/disable, enqueue now. */
@Injectable()
export class SidekiqCronService {
  constructor(private readonly access: SidekiqAccessService) {}

  instanceNames(): string[] {
    return this.access.instanceNames();
  }

  /** The instance's cron jobs by name, `offset`…`offset + limit` (one HMGET pipeline for the slice). */
  async page(instance: string | undefined, offset: number, limit: number): Promise<CronPage> {
    const store = this.access.readable(instance);
    const { names, truncated } = await store.cron.names();
    const slice = names.slice(offset, offset + limit);
    const hashes = await store.cron.hashes(slice);
    return {
      instance: store.name,
      total: names.length,
      truncated,
      definitions: hashes.flatMap((h) => (h ? (decodeCronHash(h) ?? []) : [])),
    };
  }

  /** Every cron job of the instance (at most MAX_CRON_JOBS), by name. */
  async all(instance: string): Promise<CronPage> {
    return this.page(instance, 0, Number.MAX_SAFE_INTEGER);
  }

  /** Whether the instance has a cron job of that name (Job.find would find it). */
  async has(instance: string | undefined, name: string): Promise<boolean> {
    const store = this.access.readable(instance);
    const [hash] = await store.cron.hashes([name]);
    return hash !== null && hash !== undefined && decodeCronHash(hash) !== null;
  }

  /** Job#enable! / #disable!: 404 PERIODIC_JOB_NOT_FOUND when the gem would not find it. */
  async setStatus(
    instance: string | undefined,
    name: string,
    status: CronStatus,
  ): Promise<{ instance: string; definition: CronDefinition }> {
    const store = this.access.writable(instance);
    await this.find(store, name);
    if (!(await store.cron.setStatus(name, status))) {
      throw this.notFound(name);
    }
    return { instance: store.name, definition: await this.find(store, name) };
  }

  /**
   * Job#enque! from a process without the app's classes: the stored message pushed to its queue
   * (new jid, the instance's timestamp format), last_enqueue_time and the jid history updated.
   */
  async enqueue(instance: string | undefined, name: string, now: Date): Promise<CronEnqueued> {
    const store = this.access.writable(instance);
    const def = await this.find(store, name);
    const jid = randomBytes(12).toString('hex');
    const profile = await this.access.profile(store);
    const push = buildCronPush(def, {
      jid,
      nowMs: now.getTime(),
      timestampFormat: usesMillis(profile.version)
        ? TimestampFormat.Millis
        : TimestampFormat.Seconds,
    });
    if (push === null) {
      throw new DomainError(
        'SIDEKIQ_OPERATION_NOT_ALLOWED',
        `Cron job "${name}" has a message that is not a JSON object; sidekiq-cron cannot enqueue it either`,
        { name },
      );
    }
    // the gem keeps whole seconds (LAST_ENQUEUE_TIME_FORMAT)
    const lastEnqueueTime = formatEnqueueTime(now);
    const pushed = await store.cron.enqueue({
      name,
      queue: push.queue,
      payload: push.payload,
      jid,
      lastEnqueueTime,
    });
    if (!pushed) {
      throw this.notFound(name);
    }
    return {
      name,
      jid,
      queue: push.queue,
      lastEnqueueTime: new Date(Math.floor(now.getTime() / 1000) * 1000),
    };
  }

  private async find(store: SidekiqStore, name: string): Promise<CronDefinition> {
    const [hash] = await store.cron.hashes([name]);
    const def = hash ? decodeCronHash(hash) : null;
    if (def === null) {
      throw this.notFound(name);
    }
    return def;
  }

  private notFound(name: string): DomainError {
    return new DomainError('PERIODIC_JOB_NOT_FOUND', `No sidekiq-cron job "${name}"`, {
      field: 'name',
    });
  }
}

/** Sidekiq 8 writes created_at/enqueued_at as integer milliseconds. */
function usesMillis(version: string | null | undefined): boolean {
  return typeof version === 'string' && Number(version.split('.')[0]) >= 8;
}
