import { MikroORM } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { DomainError } from '../common/errors/domain-error.js';
import type { ExactJson } from '../common/json/ruby-json.js';
import { REDACTED } from '../common/redaction/redactor.js';
import { AppConfig, DEFAULT_INSTANCE } from '../config/app-config.js';
import { tryAdvisoryXactLock } from '../database/advisory-locks.js';
import { JobStatus } from '../jobs/job-lifecycle.enum.js';
import { type JobStatusRow, JobsService } from '../jobs/jobs.service.js';
import { rawMember } from '../sidekiq/payload/payload-edit.js';
import { SortedSetsService } from '../sidekiq/sorted-sets/sorted-sets.service.js';
import {
  type BulkStatusDto,
  type CancelResultDto,
  type JobDataDto,
  type JobStatusDto,
  type ProgressRequestDto,
  SidekiqStatusName,
} from './dto/job-status.dto.js';
import { invalid, invalidFields } from '../common/validation/invalid.js';
import { JobStatusData } from './job-status-data.entity.js';
import { JobStatusDataRepository, type StatusDataRow } from './job-status-data.repository.js';

// Custom data, as small as sidekiq-status's hash of strings is meant to be.
export const DATA_LIMITS = { keys: 50, keyLength: 64, valueLength: 4096, bytes: 16_384 };
const DATA_KEY = /^[A-Za-z0-9_.:-]+$/;

const SIDEKIQ_STATUS: Record<JobStatus, SidekiqStatusName> = {
  [JobStatus.Scheduled]: SidekiqStatusName.Queued,
  [JobStatus.Queued]: SidekiqStatusName.Queued,
  [JobStatus.Running]: SidekiqStatusName.Working,
  [JobStatus.Retrying]: SidekiqStatusName.Retrying,
  [JobStatus.Succeeded]: SidekiqStatusName.Complete,
  [JobStatus.Failed]: SidekiqStatusName.Failed,
  [JobStatus.Dead]: SidekiqStatusName.Failed,
  [JobStatus.Interrupted]: SidekiqStatusName.Interrupted,
  // re-enqueued by JobManager as a new job: this one was interrupted (see restarted_as)
  [JobStatus.Restarted]: SidekiqStatusName.Interrupted,
  [JobStatus.Cancelled]: SidekiqStatusName.Cancelled,
};

/** Statuses after which a job's progress and custom data may expire. */
export const FINISHED_STATUSES = [
  JobStatus.Succeeded,
  JobStatus.Failed,
  JobStatus.Dead,
  JobStatus.Interrupted,
  JobStatus.Restarted,
  JobStatus.Cancelled,
];

// A job's row and its status data, either of which may be missing (progress can arrive before
// the job's first event)
interface StatusRow {
  job: JobStatusRow | null;
  data: StatusDataRow | null;
}

/** sidekiq-status's view of our jobs, durable: status, progress, custom data, cancel. */
@Injectable()
export class JobStatusService {
  constructor(
    private readonly orm: MikroORM,
    private readonly statusData: JobStatusDataRepository,
    private readonly jobs: JobsService,
    private readonly sortedSets: SortedSetsService,
    private readonly config: AppConfig,
  ) {}

  async status(jid: string, instance?: string): Promise<JobStatusDto> {
    const rows = await this.rows([jid], instance);
    if (rows.length === 0) {
      throw new DomainError('JOB_NOT_FOUND', `Nothing is known of job ${jid}`, { field: 'jid' });
    }
    if (rows.length > 1) {
      throw new DomainError(
        'CONFLICT',
        `job_id ${jid} exists in several instances; pass instance`,
        {
          field: 'instance',
        },
      );
    }
    return toDto(rows[0]);
  }

  /** In the order asked; a jid known in several instances gives its most recently changed. */
  async statuses(jids: string[], instance?: string): Promise<BulkStatusDto> {
    const byJid = new Map<string, JobStatusDto>();
    for (const row of await this.rows([...new Set(jids)], instance)) {
      const jid = (row.job ?? row.data)!.jid;
      if (!byJid.has(jid)) {
        byJid.set(jid, toDto(row));
      }
    }
    return { statuses: jids.map((jid) => ({ jid, status: byJid.get(jid) ?? null })) };
  }

  /** sidekiq-status's `at` / `total`: absent values keep what was stored. */
  async progress(jid: string, body: ProgressRequestDto, instance?: string): Promise<JobStatusDto> {
    if (body.at === undefined && body.total === undefined) {
      throw invalid('at', 'at or total is required');
    }
    if (body.message?.includes('\u0000')) {
      throw invalid('message', 'must not contain NUL characters');
    }
    if (body.message !== undefined && body.at === undefined) {
      throw invalid('message', 'is sent with at');
    }
    await this.statusData.saveProgress(instance ?? DEFAULT_INSTANCE, jid, {
      at: body.at ?? null,
      total: body.total ?? null,
      message: body.message === undefined ? null : this.config.redactor.redactString(body.message),
    });
    return this.status(jid, instance ?? DEFAULT_INSTANCE);
  }

  /** sidekiq-status's `store`: merges the keys; a null value removes its key. All or nothing. */
  async store(jid: string, data: Record<string, unknown>, instance?: string): Promise<JobDataDto> {
    validateData(data);
    const name = instance ?? DEFAULT_INSTANCE;
    const stored = await this.statusData.mergeData(name, jid, this.redacted(data), DATA_LIMITS);
    if (stored === null) {
      throw new DomainError(
        'PAYLOAD_TOO_LARGE',
        `A job keeps at most ${DATA_LIMITS.keys} keys and ${DATA_LIMITS.bytes} bytes of data; nothing was stored`,
        { field: 'data', max_keys: DATA_LIMITS.keys, max_bytes: DATA_LIMITS.bytes },
      );
    }
    return { jid, instance: name, data: stored };
  }

  /** Custom data as it is stored: a sensitive key's value and the value rules' matches hidden. */
  private redacted(data: Record<string, unknown>): Record<string, unknown> {
    const redactor = this.config.redactor;
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(data)) {
      // null removes the key: nothing to hide. An own property even for __proto__.
      Object.defineProperty(out, key, {
        value:
          value === null
            ? null
            : redactor.isSensitiveKey(key)
              ? REDACTED
              : redactor.redactValue(value as ExactJson),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }

  /** sidekiq-status's `get_all` data part (`retrieve` of each key). */
  async data(jid: string, instance?: string): Promise<JobDataDto> {
    const name = instance ?? DEFAULT_INSTANCE;
    return { jid, instance: name, data: await this.statusData.dataOf(name, jid) };
  }

  /**
   * sidekiq-status's cancel / unschedule: take the job out of Sidekiq's scheduled set, then
   * record it as cancelled. A job no longer scheduled (queued, running, done) is left alone: 409.
   */
  async cancel(jid: string, instance?: string): Promise<CancelResultDto> {
    const name = this.sortedSets.instanceName(instance);
    try {
      // Redis first (ZREM is what decides whether the job was still scheduled); should recording
      // fail (Postgres down: 503), unschedule puts the entry back, so nothing has changed
      return await this.sortedSets.unschedule(instance, jid, async ({ entry, raw }) => {
        // arguments exactly as Sidekiq's payload holds them (never re-serialised), and the payload
        await this.jobs.recordCancel(name, jid, {
          jobClass: entry.class,
          queue: entry.queue,
          arguments: entry.decodable ? rawMember(raw, 'args') : null,
          payload: entry.decodable ? raw : null,
        });
        return {
          jid,
          instance: name,
          cancelled: true,
          class: entry.class,
          queue: entry.queue,
          scheduled_for: entry.score,
        };
      });
    } catch (error) {
      if (error instanceof DomainError && error.code === 'SIDEKIQ_JOB_NOT_FOUND') {
        throw new DomainError(
          'NOT_SCHEDULED',
          `Job ${jid} is not in Sidekiq's scheduled set (already queued, running or finished, or unknown); nothing changed`,
          { field: 'jid' },
        );
      }
      throw error;
    }
  }

  /**
   * Retention: progress and data of jobs finished longer than the TTL ago, and of jids that never
   * reported a lifecycle event (nothing will ever finish them), in batches; each batch takes the
   * retention lock and the run stops when another copy of the service holds it.
   */
  async pruneExpired(now: Date): Promise<number> {
    const cutoff = new Date(now.getTime() - this.config.retention.statusDataMinutes * 60_000);
    const batch = this.config.retention.batch;
    const finished = new Set<string>(FINISHED_STATUSES);
    let total = 0;
    let after: { updatedAt: string; instance: string; jid: string } | undefined;
    for (;;) {
      const pass = await this.orm.em.fork().transactional(async (em) => {
        if (!(await tryAdvisoryXactLock(em, 'retention'))) {
          return null;
        }
        const repository = em.getRepository(JobStatusData);
        const stale = await repository.staleSince(cutoff, batch, after);
        const jobs = new Map(
          (await this.jobs.lastActivity(stale)).map((j) => [`${j.instance}/${j.jid}`, j]),
        );
        const expired = stale.filter(({ instance, jid }) => {
          const job = jobs.get(`${instance}/${jid}`);
          return job === undefined || (job.lastEventAt < cutoff && finished.has(job.status));
        });
        return { stale, deleted: await repository.deleteStale(expired, cutoff) };
      });
      if (pass === null) {
        return total;
      }
      total += pass.deleted;
      if (pass.stale.length < batch) {
        return total;
      }
      after = pass.stale.at(-1);
    }
  }

  private async rows(jids: string[], instance?: string): Promise<StatusRow[]> {
    const name = instance ?? null;
    const [jobs, data] = await Promise.all([
      this.jobs.statusesOf(jids, name),
      this.statusData.findByJids(jids, name),
    ]);
    const key = (r: { instance: string; jid: string }) => `${r.instance}/${r.jid}`;
    const dataByKey = new Map(data.map((d) => [key(d), d]));
    const rows: StatusRow[] = jobs.map((job) => {
      const own = dataByKey.get(key(job)) ?? null;
      dataByKey.delete(key(job));
      return { job, data: own };
    });
    rows.push(...[...dataByKey.values()].map((d) => ({ job: null, data: d })));
    // newest first when a jid exists in several instances
    return rows.sort((a, b) => updateTime(b) - updateTime(a));
  }
}

/** When the job or its status data last changed, in epoch seconds. */
function updateTime(row: StatusRow): number {
  return Math.max(row.job?.lastEventEpoch ?? -Infinity, row.data?.updatedEpoch ?? -Infinity);
}

function validateData(data: Record<string, unknown>): void {
  const errors: { field: string; message: string }[] = [];
  const keys = Object.keys(data);
  if (keys.length === 0) {
    errors.push({ field: 'data', message: 'must name at least one key' });
  }
  if (keys.length > DATA_LIMITS.keys) {
    errors.push({ field: 'data', message: `must have at most ${DATA_LIMITS.keys} keys` });
  }
  for (const key of keys) {
    const value = data[key];
    if (key.length > DATA_LIMITS.keyLength || !DATA_KEY.test(key)) {
      errors.push({
        field: `data.${key.slice(0, 80)}`,
        message: `keys are 1 to ${DATA_LIMITS.keyLength} characters of A-Z a-z 0-9 _ . : -`,
      });
    } else if (typeof value === 'string') {
      if (value.length > DATA_LIMITS.valueLength || value.includes('\u0000')) {
        errors.push({
          field: `data.${key}`,
          message: `must be at most ${DATA_LIMITS.valueLength} characters, without NUL`,
        });
      }
    } else if (
      value !== null &&
      typeof value !== 'boolean' &&
      !(typeof value === 'number' && Number.isFinite(value))
    ) {
      errors.push({
        field: `data.${key}`,
        message: 'must be a string, a number, true/false or null (to remove it)',
      });
    }
  }
  if (errors.length > 0) {
    throw invalidFields(errors);
  }
}

function toDto(row: StatusRow): JobStatusDto {
  const { job, data } = row;
  const number = (v: string | null | undefined) =>
    v === null || v === undefined ? null : Number(v);
  const at = number(data?.at);
  const total = number(data?.total);
  const jobStatus = (job?.status ?? null) as JobStatus | null;
  const status = jobStatus === null ? SidekiqStatusName.Working : SIDEKIQ_STATUS[jobStatus];
  const pct =
    status === SidekiqStatusName.Complete
      ? 100
      : at === null
        ? null
        : (total ?? 100) === 0
          ? null
          : Math.min(100, Math.floor((at * 100) / (total ?? 100)));
  const iso = (d: string | null | undefined) =>
    d === null || d === undefined ? null : new Date(d).toISOString();
  return {
    jid: (job ?? data)!.jid,
    instance: (job ?? data)!.instance,
    status,
    job_status: jobStatus,
    pct_complete: pct,
    at,
    total,
    message: data?.message ?? null,
    data: data?.data ?? {},
    update_time: Math.floor(updateTime(row)),
    enqueued_at: iso(job?.enqueuedAt),
    started_at: iso(job?.startedAt),
    completed_at: iso(job?.completedAt),
    restarted_as: job?.restartedAs ?? null,
  };
}
