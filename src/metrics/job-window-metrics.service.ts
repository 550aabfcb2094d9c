import { Injectable } from '@nestjs/common';
import { JobMetricsService, type JobWindowRow } from '../jobs/job-metrics.service.js';
import type {
  JobClassMetricsDto,
  JobMetricsDto,
  JobMetricsQueryDto,
} from './dto/job-metrics.dto.js';
import { invalid } from '../common/validation/invalid.js';

const DAY_MS = 86_400_000;

export function toClassMetrics(row: JobWindowRow): JobClassMetricsDto {
  return {
    job_class: row.jobClass,
    queue: row.queue,
    count: row.count,
    succeeded: row.succeeded,
    failed: row.failed,
    success_rate: row.count === 0 ? 0 : row.succeeded / row.count,
    failure_rate: row.count === 0 ? 0 : row.failed / row.count,
    wait_seconds: row.wait,
    run_seconds: row.run,
  };
}

@Injectable()
export class JobWindowMetricsService {
  constructor(private readonly jobMetrics: JobMetricsService) {}

  async jobs(query: JobMetricsQueryDto): Promise<JobMetricsDto> {
    const to = query.to ? new Date(query.to) : new Date();
    const from = query.from ? new Date(query.from) : new Date(to.getTime() - DAY_MS);
    if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime()) || from >= to) {
      throw invalid('from', 'must be before to');
    }
    const rows = await this.jobMetrics.window({
      from,
      to,
      jobClass: query.job_class,
      queue: query.queue,
      instance: query.instance,
    });
    return { from: from.toISOString(), to: to.toISOString(), classes: rows.map(toClassMetrics) };
  }
}
