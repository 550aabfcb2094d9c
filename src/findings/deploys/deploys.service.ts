import { Injectable } from '@nestjs/common';
import { Clock } from '../../common/clock.js';
import { invalid } from '../../common/validation/invalid.js';
import { AppConfig, DEFAULT_INSTANCE } from '../../config/app-config.js';
import { JobInsightsService } from '../../jobs/job-insights.service.js';
import type { FindingDraft } from '../finding-writer.js';
import type { DeployMark } from '../fingerprints/failure-fingerprint.repository.js';
import { DeployRepository, type DeployRow } from './deploy.repository.js';
import { type ClassComparison, compareWindows, type RegressionRule } from './regression.js';

// a deploy may be stamped by a clock a little ahead of ours
const FUTURE_SLACK_MS = 5 * 60_000;
/** Classes shown per deploy (regressed ones first). */
export const MAX_DEPLOY_CLASSES = 500;

export interface DeployClass extends ClassComparison {
  jobClass: string;
}

export interface DeployComparison {
  deploy: DeployRow;
  windowMinutes: number;
  /** the window after the deploy has fully passed */
  afterComplete: boolean;
  classes: DeployClass[];
  classesTruncated: boolean;
  regressions: number;
}

@Injectable()
export class DeploysService {
  constructor(
    private readonly deploys: DeployRepository,
    private readonly jobs: JobInsightsService,
    private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {}

  /** The thresholds for a class: the defaults, and what DEPLOY_CLASS_OVERRIDES sets for it. */
  ruleFor(jobClass: string): RegressionRule {
    const { failureRatePoints, minFailures, p95IncreasePercent, minRuns, classOverrides } =
      this.config.deploys;
    return {
      failureRatePoints,
      minFailures,
      p95IncreasePercent,
      minRuns,
      ...classOverrides.get(jobClass),
    };
  }

  /** Records a deploy mark; the same instance and revision again returns the first one. */
  async mark(input: {
    instance?: string;
    revision: string;
    deployedAt?: Date;
  }): Promise<{ deploy: DeployRow; created: boolean }> {
    const now = this.clock.now();
    const deployedAt = input.deployedAt ?? new Date(now);
    if (deployedAt.getTime() > now + FUTURE_SLACK_MS) {
      throw invalid('deployed_at', 'must not be in the future');
    }
    return this.deploys.mark(input.instance ?? DEFAULT_INSTANCE, input.revision, deployedAt);
  }

  /** Newest deploy first, each compared with the window before it. */
  async list(query: {
    instance?: string;
    windowMinutes?: number;
    limit: number;
    offset: number;
  }): Promise<{ deploys: DeployComparison[]; nextOffset: number | null }> {
    const rows = await this.deploys.page(query.instance ?? null, query.limit + 1, query.offset);
    const now = this.clock.date();
    const windowMinutes = query.windowMinutes ?? this.config.deploys.windowMinutes;
    const deploys: DeployComparison[] = [];
    for (const deploy of rows.slice(0, query.limit)) {
      deploys.push(await this.compare(deploy, windowMinutes, now));
    }
    return {
      deploys,
      nextOffset: rows.length > query.limit ? query.offset + query.limit : null,
    };
  }

  async compare(deploy: DeployRow, windowMinutes: number, now: Date): Promise<DeployComparison> {
    const at = deploy.deployedAt.getTime();
    const windowMs = windowMinutes * 60_000;
    const to = Math.max(at, Math.min(at + windowMs, now.getTime()));
    const rows = await this.jobs.around(
      deploy.instance,
      new Date(at - windowMs),
      deploy.deployedAt,
      new Date(to),
    );
    const classes = rows
      .map((row) => ({
        jobClass: row.jobClass,
        ...compareWindows(row.before, row.after, this.ruleFor(row.jobClass)),
      }))
      .sort(
        (a, b) =>
          Number(b.reasons.length > 0) - Number(a.reasons.length > 0) ||
          (a.jobClass < b.jobClass ? -1 : 1),
      );
    return {
      deploy,
      windowMinutes,
      afterComplete: now.getTime() >= at + windowMs,
      classes: classes.slice(0, MAX_DEPLOY_CLASSES),
      classesTruncated: classes.length > MAX_DEPLOY_CLASSES,
      regressions: classes.filter((c) => c.reasons.length > 0).length,
    };
  }

  /** The regressions of each instance's latest deploy while it is watched, as findings. */
  async regressionDrafts(marks: DeployMark[], now: Date): Promise<FindingDraft[]> {
    const watchMs = this.config.deploys.watchHours * 3_600_000;
    const drafts: FindingDraft[] = [];
    for (const mark of marks) {
      if (now.getTime() - mark.deployedAt.getTime() > watchMs) {
        continue;
      }
      const deploy = { ...mark, id: '', createdAt: mark.deployedAt };
      const comparison = await this.compare(deploy, this.config.deploys.windowMinutes, now);
      for (const c of comparison.classes) {
        if (c.reasons.length === 0) {
          continue;
        }
        drafts.push({
          identity: `deploy_regression:${mark.instance}:${mark.revision}:${c.jobClass}`,
          instance: mark.instance,
          jobClass: c.jobClass,
          jid: null,
          severity: 'warning',
          summary: `${c.jobClass} regressed after deploy ${mark.revision}: ${c.reasons.join('; ')}`,
          evidence: {
            revision: mark.revision,
            deployed_at: mark.deployedAt.toISOString(),
            window_minutes: comparison.windowMinutes,
            before: c.before,
            after: c.after,
            failure_rate_change: c.failureRateChange,
            p95_change_percent: c.p95Change,
          },
          seenAt: now,
        });
      }
    }
    return drafts;
  }
}
