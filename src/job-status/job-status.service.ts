import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { DomainError } from '../common/errors/domain-error.js';
import { AppConfig, DEFAULT_INSTANCE } from '../config/app-config.js';
import { JobStatus } from '../jobs/job-status.js';
import { JobsService } from '../jobs/jobs.service.js';
import { rawMember } from '../sidekiq/sidekiq-payload.js';
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

interface StatusRow {
  instance: string;
  jid: string;
  status: JobStatus | null;
  at: string | null;
  total: string | null;
  message: string | null;
  data: Record<string, unknown> | null;
  update_time: number;
  enqueued_at: Date | null;
  started_at: Date | null;
  completed_at: Date | null;
  restarted_as: string | null;
}

// A job's row and its status data, either of which may be missing (progress can arrive before
// the job's first event); newest first when a jid exists in several instances.
const STATUS_SQL = `
select coalesce(j.instance, d.instance) as instance, coalesce(j.jid, d.jid) as jid, j.status,
  d.at::text as at, d.total::text as total, d.message, d.data,
  extract(epoch from greatest(j.last_event_at, d.updated_at))::float8 as update_time,
  j.enqueued_at, j.started_at, j.completed_at, j.restarted_as
from (select * from jobs where jid in (select jsonb_array_elements_text(?::jsonb))
  and (?::text is null or instance = ?)) j
full join (select * from job_status_data where jid in (select jsonb_array_elements_text(?::jsonb))
  and (?::text is null or instance = ?)) d
  on d.instance = j.instance and d.jid = j.jid
order by update_time desc
`;

/** sidekiq-status's view of our jobs, durable: status, progress, custom data, cancel. */
@Injectable()
export class JobStatusService {
  constructor(
    private readonly em: EntityManager,
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
      if (!byJid.has(row.jid)) {
        byJid.set(row.jid, toDto(row));
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
    await this.em.fork().execute(
      `insert into job_status_data (instance, jid, at, total, message, updated_at)
       values (?, ?, ?, ?, ?, now())
       on conflict (instance, jid) do update set
         at = coalesce(excluded.at, job_status_data.at),
         total = coalesce(excluded.total, job_status_data.total),
         message = case when ? then excluded.message else job_status_data.message end,
         updated_at = now()`,
      [
        instance ?? DEFAULT_INSTANCE,
        jid,
        body.at ?? null,
        body.total ?? null,
        body.message ?? null,
        body.at !== undefined,
      ],
    );
    return this.status(jid, instance ?? DEFAULT_INSTANCE);
  }

  /** sidekiq-status's `store`: merges the keys; a null value removes its key. All or nothing. */
  async store(jid: string, data: Record<string, unknown>, instance?: string): Promise<JobDataDto> {
    validateData(data);
    const name = instance ?? DEFAULT_INSTANCE;
    const merged = `jsonb_strip_nulls(coalesce(job_status_data.data, '{}') || ?::jsonb)`;
    const fits = (expr: string) =>
      `octet_length((${expr})::text) <= ${DATA_LIMITS.bytes}
       and (select count(*) from jsonb_object_keys(${expr})) <= ${DATA_LIMITS.keys}`;
    const json = JSON.stringify(data);
    const rows = await this.em.fork().execute<{ data: Record<string, unknown> }[]>(
      `insert into job_status_data (instance, jid, data, updated_at)
       select ?, ?, d, now() from (select jsonb_strip_nulls(?::jsonb) as d) s
       where ${fits('s.d')}
       on conflict (instance, jid) do update set data = ${merged}, updated_at = now()
       where ${fits(merged)}
       returning data`,
      [name, jid, json, json, json, json],
    );
    if (rows.length === 0) {
      throw new DomainError(
        'PAYLOAD_TOO_LARGE',
        `A job keeps at most ${DATA_LIMITS.keys} keys and ${DATA_LIMITS.bytes} bytes of data; nothing was stored`,
        { field: 'data', max_keys: DATA_LIMITS.keys, max_bytes: DATA_LIMITS.bytes },
      );
    }
    return { jid, instance: name, data: rows[0].data };
  }

  /** sidekiq-status's `get_all` data part (`retrieve` of each key). */
  async data(jid: string, instance?: string): Promise<JobDataDto> {
    const name = instance ?? DEFAULT_INSTANCE;
    const rows = await this.em
      .fork()
      .execute<{ data: Record<string, unknown> }[]>(
        'select data from job_status_data where instance = ? and jid = ?',
        [name, jid],
      );
    return { jid, instance: name, data: rows[0]?.data ?? {} };
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
   * reported a lifecycle event (nothing will ever finish them), in batches.
   */
  async pruneExpired(now: Date): Promise<number> {
    const cutoff = new Date(now.getTime() - this.config.retention.statusDataMinutes * 60_000);
    let total = 0;
    for (;;) {
      const rows = await this.em.fork().execute<{ n: number }[]>(
        `with gone as (
           delete from job_status_data d where (d.instance, d.jid) in (
             select d2.instance, d2.jid from job_status_data d2
             left join jobs j on j.instance = d2.instance and j.jid = d2.jid
             where d2.updated_at < ?
               and (j.jid is null or (j.last_event_at < ?
                 and j.status in (select jsonb_array_elements_text(?::jsonb))))
             order by d2.updated_at limit ?)
           returning 1)
         select count(*)::int as n from gone`,
        [cutoff, cutoff, JSON.stringify(FINISHED_STATUSES), this.config.retention.batch],
      );
      const n = rows[0]?.n ?? 0;
      total += n;
      if (n < this.config.retention.batch) {
        return total;
      }
    }
  }

  private rows(jids: string[], instance?: string): Promise<StatusRow[]> {
    const name = instance ?? null;
    const list = JSON.stringify(jids);
    return this.em.fork().execute<StatusRow[]>(STATUS_SQL, [list, name, name, list, name, name]);
  }
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
  const at = row.at === null ? null : Number(row.at);
  const total = row.total === null ? null : Number(row.total);
  const status = row.status === null ? SidekiqStatusName.Working : SIDEKIQ_STATUS[row.status];
  const pct =
    status === SidekiqStatusName.Complete
      ? 100
      : at === null
        ? null
        : (total ?? 100) === 0
          ? null
          : Math.min(100, Math.floor((at * 100) / (total ?? 100)));
  const iso = (d: Date | null) => (d === null ? null : new Date(d).toISOString());
  return {
    jid: row.jid,
    instance: row.instance,
    status,
    job_status: row.status,
    pct_complete: pct,
    at,
    total,
    message: row.message,
    data: row.data ?? {},
    update_time: Math.floor(row.update_time),
    enqueued_at: iso(row.enqueued_at),
    started_at: iso(row.started_at),
    completed_at: iso(row.completed_at),
    restarted_as: row.restarted_as,
  };
}
