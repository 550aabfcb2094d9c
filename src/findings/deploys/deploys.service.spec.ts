import { Clock } from '../../common/clock.js';
import { AppConfig } from '../../config/app-config.js';
import { validateEnv } from '../../config/env.schema.js';
import type { AroundRow, JobInsightsService } from '../../jobs/job-insights.service.js';
import type { DeployRepository } from './deploy.repository.js';
import { DeploysService } from './deploys.service.js';

const NOW = Date.parse('2026-12-04T12:00:00Z');
const config = new AppConfig(
  validateEnv({
    DATABASE_URL: 'postgresql://app@127.0.0.1:5432/app',
    REDIS_URL: 'redis://127.0.0.1:6379/0',
    PRIVATE_TOKEN: 'a'.repeat(32),
    DEPLOY_CLASS_OVERRIDES: '{"SlowReportJob": {"p95_increase_percent": 500}}',
  }),
);
const clock = new (class extends Clock {
  override now() {
    return NOW;
  }
})();

// the same doubling of p95 for two classes
const slower = (jobClass: string): AroundRow => ({
  jobClass,
  before: { count: 50, failed: 0, p95: 1 },
  after: { count: 50, failed: 0, p95: 2 },
});

function makeSut(calls: unknown[][] = []) {
  const jobs = {
    around: (...args: unknown[]) => {
      calls.push(args);
      return Promise.resolve([slower('SlowReportJob'), slower('ChargeJob')]);
    },
  } as unknown as JobInsightsService;
  return new DeploysService({} as DeployRepository, jobs, config, clock);
}

describe('DeploysService', () => {
  it('judges each class by its own thresholds when DEPLOY_CLASS_OVERRIDES sets them', async () => {
    const drafts = await makeSut().regressionDrafts(
      [{ instance: 'default', revision: 'r1', deployedAt: new Date(NOW - 2 * 3_600_000) }],
      new Date(NOW),
    );
    expect(drafts.map((d) => d.identity)).toEqual(['deploy_regression:default:r1:ChargeJob']);
    expect(drafts[0].summary).toBe(
      'ChargeJob regressed after deploy r1: run-time p95 1 s → 2 s (+100%; threshold +50%)',
    );
  });

  it('compares the window before with what has passed of the window after, and leaves old deploys alone', async () => {
    const calls: unknown[][] = [];
    const sut = makeSut(calls);
    const deployedAt = new Date(NOW - 20 * 60_000);
    const comparison = await sut.compare(
      { id: '1', instance: 'eu', revision: 'r2', deployedAt, createdAt: deployedAt },
      60,
      new Date(NOW),
    );
    expect(calls[0]).toEqual(['eu', new Date(NOW - 80 * 60_000), deployedAt, new Date(NOW)]);
    expect(comparison).toMatchObject({ afterComplete: false, regressions: 1 });
    expect(comparison.classes[0].jobClass).toBe('ChargeJob');

    const old = { instance: 'eu', revision: 'r0', deployedAt: new Date(NOW - 25 * 3_600_000) };
    expect(await sut.regressionDrafts([old], new Date(NOW))).toEqual([]);
  });
});
