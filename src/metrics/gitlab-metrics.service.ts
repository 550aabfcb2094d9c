import { Injectable } from '@nestjs/common';
import { RedisRegistry } from '../redis/redis.module.js';
import { ProcessesService } from '../sidekiq/processes/processes.service.js';
import { QueuesService } from '../sidekiq/queues/queues.service.js';
import { StatsService } from '../sidekiq/stats/stats.service.js';
import type {
  CompoundMetricsDto,
  JobStatsDto,
  ProcessMetricsDto,
  QueueMetricsDto,
} from './dto/gitlab-metrics.dto.js';
import { mergeProcesses, mergeQueues, sumJobStats } from './gitlab-metrics.js';

/** GitLab's Sidekiq Metrics API over every configured Sidekiq instance. */
@Injectable()
export class GitlabMetricsService {
  constructor(
    private readonly registry: RedisRegistry,
    private readonly queues: QueuesService,
    private readonly processes: ProcessesService,
    private readonly stats: StatsService,
  ) {}

  private each<T>(read: (instance: string) => Promise<T>): Promise<T[]> {
    return Promise.all(this.registry.instanceNames.map(read));
  }

  async queueMetrics(): Promise<QueueMetricsDto> {
    return { queues: mergeQueues(await this.each((i) => this.queues.list(i))) };
  }

  async processMetrics(): Promise<ProcessMetricsDto> {
    return { processes: mergeProcesses(await this.each((i) => this.processes.list(i))) };
  }

  async jobStats(): Promise<JobStatsDto> {
    return { jobs: sumJobStats(await this.each((i) => this.stats.stats(i))) };
  }

  async compoundMetrics(): Promise<CompoundMetricsDto> {
    const [queues, processes, jobs] = await Promise.all([
      this.queueMetrics(),
      this.processMetrics(),
      this.jobStats(),
    ]);
    return { ...queues, ...processes, ...jobs };
  }
}
