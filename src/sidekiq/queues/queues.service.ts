import { Injectable } from '@nestjs/common';
import { DomainError } from '../../common/errors/domain-error.js';
import { SidekiqJobDto } from '../dto/sidekiq-job.dto.js';
import { SidekiqAccessService } from '../sidekiq-access.service.js';
import { decodeJob, decodeMember, queueLatency } from '../payload/job-record.js';
import type { SidekiqStore } from '../store/sidekiq.store.js';
import type { QueueClearedDto, QueuePageDto, QueueSummaryDto } from './dto/queue.dto.js';

export const DEFAULT_PER_PAGE = 25;

export const nowSeconds = (): number => Date.now() / 1000;

/** Sidekiq::Queue and the Web's queue pages. */
@Injectable()
export class QueuesService {
  constructor(private readonly access: SidekiqAccessService) {}

  /** Queue.all with size and latency, sorted by name (one pipeline for all queues). */
  async list(instance?: string): Promise<QueueSummaryDto[]> {
    const store = this.access.readable(instance);
    const snapshots = await store.queues.snapshots(await store.queues.names());
    const now = nowSeconds();
    return snapshots.map((s) => ({
      name: s.name,
      size: s.size,
      latency: queueLatency(s.oldest, now),
    }));
  }

  /**
   * One page of a queue as Sidekiq::Web pages it: newest first (LRANGE (page−1)·n … page·n−1), or
   * with `asc` oldest first (LRANGE −end−1 … −start−1, reversed).
   */
  async page(
    instance: string | undefined,
    name: string,
    page = 1,
    perPage = DEFAULT_PER_PAGE,
    direction: 'desc' | 'asc' = 'desc',
  ): Promise<QueuePageDto> {
    const store = this.access.readable(instance);
    const start = (page - 1) * perPage;
    const end = start + perPage - 1;
    const result =
      direction === 'asc'
        ? await store.queues.page(name, -end - 1, -start - 1)
        : await store.queues.page(name, start, end);
    if (!result.known) {
      throw this.queueNotFound(name);
    }
    const entries = direction === 'asc' ? [...result.entries].reverse() : result.entries;
    const rules = await this.access.displayRules(store);
    const now = nowSeconds();
    return {
      name,
      size: result.size,
      latency: queueLatency(result.oldest, now),
      page,
      per_page: perPage,
      jobs: entries.map((member) => SidekiqJobDto.from(decodeMember(member, rules, name), now)),
    };
  }

  /** Queue#find_job. */
  async find(instance: string | undefined, name: string, jid: string): Promise<SidekiqJobDto> {
    const store = this.access.readable(instance);
    const raw = await this.findRaw(store, name, jid);
    return SidekiqJobDto.from(
      decodeJob(raw, await this.access.displayRules(store), name),
      nowSeconds(),
    );
  }

  /** JobRecord#delete: LREM 1 with the exact stored string. */
  async deleteJob(instance: string | undefined, name: string, jid: string): Promise<SidekiqJobDto> {
    const store = this.access.writable(instance);
    const raw = await this.findRaw(store, name, jid);
    if ((await store.queues.remove(name, raw)) === 0) {
      throw this.jobNotFound(name, jid);
    }
    return SidekiqJobDto.from(
      decodeJob(raw, await this.access.displayRules(store), name),
      nowSeconds(),
    );
  }

  /** Queue#clear. */
  async clear(instance: string | undefined, name: string): Promise<QueueClearedDto> {
    const store = this.access.writable(instance);
    await this.assertKnown(store, name);
    return { name, deleted: await store.queues.clear(name) };
  }

  private async findRaw(store: SidekiqStore, name: string, jid: string): Promise<string> {
    await this.assertKnown(store, name);
    const [raw] = await store.queues.find(name, jid);
    if (raw === undefined) {
      throw this.jobNotFound(name, jid);
    }
    return raw;
  }

  private async assertKnown(store: SidekiqStore, name: string): Promise<void> {
    if (!(await store.queues.known(name))) {
      throw this.queueNotFound(name);
    }
  }

  private queueNotFound(name: string): DomainError {
    return new DomainError('QUEUE_NOT_FOUND', `No queue "${name}"`, { field: 'name' });
  }

  private jobNotFound(name: string, jid: string): DomainError {
    return new DomainError('SIDEKIQ_JOB_NOT_FOUND', `No job ${jid} in queue "${name}"`, {
      field: 'jid',
    });
  }
}
