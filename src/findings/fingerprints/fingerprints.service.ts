import { MikroORM } from '@mikro-orm/postgresql';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import { Clock } from '../../common/clock.js';
import { DomainError } from '../../common/errors/domain-error.js';
import { AppConfig } from '../../config/app-config.js';
import { tryAdvisoryXactLock } from '../../database/advisory-locks.js';
import { JobInsightsService } from '../../jobs/job-insights.service.js';
import { MetricsRegistry } from '../../metrics/metrics-registry.js';
import { Deploy } from '../deploys/deploy.entity.js';
import { DeployRepository } from '../deploys/deploy.repository.js';
import { DeploysService } from '../deploys/deploys.service.js';
import { type FindingDraft, recordFindings } from '../finding-writer.js';
import { aggregateFailures, hourOf } from './aggregate.js';
import { FailureFingerprint } from './failure-fingerprint.entity.js';
import {
  type DeployMark,
  FailureFingerprintRepository,
  type FingerprintQuery,
  type FingerprintRow,
} from './failure-fingerprint.repository.js';
import { nextScanWindow } from './scan-window.js';

// ids read per query, and per tick (a backlog, e.g. the history at first start, takes several)
const CHUNK_IDS = 5_000n;
const MAX_IDS_PER_TICK = 200_000;
// a reading of the id sequence is trusted after this long even while an older transaction runs
const SETTLE_FALLBACK_MS = 120_000;
// open new_failure findings at most (the newest)
const MAX_NEW_FINDINGS = 1_000;
const PRUNE_BATCH = 5_000;

export interface FingerprintTick {
  ran: boolean;
  /** failures read */
  failures: number;
  /** every job_events id up to this one has been read */
  lastId: string;
  findings: { opened: number; ended: number };
}

export interface Trend {
  hour: Date;
  count: number;
}

export interface FailureGroup extends FingerprintRow {
  /** first seen after the instance's last deploy mark (false without one) */
  newSinceDeploy: boolean;
  lastDeploy: DeployMark | null;
  trend: Trend[];
}

/**
 * Failure fingerprints: a scheduled tick reads the failures stored since its last run (by event
 * id, in bounded ranges, off the ingest path) and adds them to their fingerprints and hourly
 * counts, then brings the new_failure and deploy_regression findings up to date.
 */
@Injectable()
export class FingerprintsService implements OnModuleInit {
  constructor(
    private readonly orm: MikroORM,
    private readonly fingerprints: FailureFingerprintRepository,
    private readonly deployMarks: DeployRepository,
    private readonly deploys: DeploysService,
    private readonly jobs: JobInsightsService,
    private readonly metrics: MetricsRegistry,
    private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {}

  onModuleInit(): void {
    this.metrics.newFailureCounts = () => this.newCounts();
  }

  /** One tick; only the copy that gets the advisory lock works. */
  async tick(now: Date): Promise<FingerprintTick> {
    return this.orm.em.fork().transactional(async (em) => {
      const idle = { ran: false, failures: 0, lastId: '0', findings: { opened: 0, ended: 0 } };
      if (!(await tryAdvisoryXactLock(em, 'fingerprints'))) {
        return idle;
      }
      const repo = em.getRepository(FailureFingerprint);
      const state = (await repo.scanState()) ?? { lastId: '0', pending: [] };
      // the sequence first: a transaction holding an id up to it started before the clock below
      const issued = await this.jobs.lastIssuedEventId();
      const clock = await repo.transactionClock();
      const scan = nextScanWindow(
        state.lastId,
        state.pending,
        { at: clock.now, id: issued },
        clock.oldestOther,
        SETTLE_FALLBACK_MS,
        MAX_IDS_PER_TICK,
      );
      let failures = 0;
      const upTo = BigInt(scan.upTo);
      for (let lo = BigInt(state.lastId); lo < upTo; lo += CHUNK_IDS) {
        const hi = lo + CHUNK_IDS < upTo ? lo + CHUNK_IDS : upTo;
        const rows = await this.jobs.failuresBetween(String(lo), String(hi));
        const { fingerprints, hours } = aggregateFailures(rows);
        await repo.record(fingerprints, hours);
        failures += rows.length;
      }
      await repo.saveScanState({ lastId: scan.upTo, pending: scan.pending });

      const marks = await em.getRepository(Deploy).latest();
      const fresh = await recordFindings(
        em,
        'new_failure',
        await this.newFailureDrafts(repo, marks, now),
        now,
        'all',
      );
      const regressions = await recordFindings(
        em,
        'deploy_regression',
        await this.deploys.regressionDrafts(marks, now),
        now,
        'all',
      );
      await repo.prune(
        new Date(now.getTime() - this.config.retention.eventDays * 86_400_000),
        new Date(now.getTime() - this.config.retention.jobDays * 86_400_000),
        PRUNE_BATCH,
      );
      return {
        ran: true,
        failures,
        lastId: scan.upTo,
        findings: {
          opened: fresh.opened + regressions.opened,
          ended: fresh.ended + regressions.ended,
        },
      };
    });
  }

  async list(
    query: FingerprintQuery,
  ): Promise<{ groups: FailureGroup[]; nextOffset: number | null }> {
    const rows = await this.fingerprints.page({ ...query, limit: query.limit + 1 });
    const groups = await this.withTrends(rows.slice(0, query.limit), 24);
    return {
      groups,
      nextOffset: rows.length > query.limit ? query.offset + query.limit : null,
    };
  }

  async one(fingerprint: string, instance: string | null, hours: number): Promise<FailureGroup> {
    const row = await this.fingerprints.one(fingerprint, instance);
    if (!row) {
      throw new DomainError(
        'NOT_FOUND',
        `No failure fingerprint ${fingerprint}${instance ? ` in instance ${instance}` : ''}`,
      );
    }
    const [group] = await this.withTrends([row], hours);
    return group;
  }

  /** Per instance with a deploy mark: fingerprints first seen after it (the Prometheus gauge). */
  async newCounts(): Promise<Map<string, number>> {
    const em = this.orm.em.fork();
    return em
      .getRepository(FailureFingerprint)
      .countNewSince(await em.getRepository(Deploy).latest());
  }

  private async newFailureDrafts(
    repo: FailureFingerprintRepository,
    marks: DeployMark[],
    now: Date,
  ): Promise<FindingDraft[]> {
    const quietSince = new Date(now.getTime() - this.config.failures.newQuietHours * 3_600_000);
    const rows = await repo.newSince(marks, quietSince, MAX_NEW_FINDINGS);
    return rows.map((f) => ({
      identity: `new_failure:${f.instance}:${f.fingerprint}`,
      instance: f.instance,
      jobClass: f.jobClasses[0] ?? null,
      jid: f.sampleJid,
      severity: 'warning',
      summary: `New failure since deploy ${f.revision}: ${f.errorClass}: ${f.message}${
        f.frame ? ` at ${f.frame}` : ''
      } (${f.count} since ${f.firstSeenAt.toISOString()}${
        f.jobClasses.length > 0 ? ` in ${f.jobClasses.join(', ')}` : ''
      })`,
      evidence: {
        fingerprint: f.fingerprint,
        error_class: f.errorClass,
        message: f.message,
        frame: f.frame,
        count: f.count,
        first_seen_at: f.firstSeenAt.toISOString(),
        last_seen_at: f.lastSeenAt.toISOString(),
        job_classes: f.jobClasses,
        sample_jid: f.sampleJid,
        revision: f.revision,
        deployed_at: f.deployedAt.toISOString(),
      },
      seenAt: f.lastSeenAt,
    }));
  }

  private async withTrends(rows: FingerprintRow[], hours: number): Promise<FailureGroup[]> {
    const end = hourOf(this.clock.date()).getTime();
    const from = new Date(end - (hours - 1) * 3_600_000);
    const [counts, marks] = await Promise.all([
      this.fingerprints.hourly(rows, from),
      this.deployMarks.latest(),
    ]);
    const byKey = new Map<string, number>();
    for (const c of counts) {
      byKey.set(`${c.instance}\u0000${c.fingerprint}\u0000${c.hour.getTime()}`, c.count);
    }
    const markOf = new Map(marks.map((m) => [m.instance, m]));
    return rows.map((row) => {
      const mark = markOf.get(row.instance) ?? null;
      return {
        ...row,
        newSinceDeploy: mark !== null && row.firstSeenAt > mark.deployedAt,
        lastDeploy: mark,
        trend: Array.from({ length: hours }, (_, i) => {
          const hour = from.getTime() + i * 3_600_000;
          return {
            hour: new Date(hour),
            count: byKey.get(`${row.instance}\u0000${row.fingerprint}\u0000${hour}`) ?? 0,
          };
        }),
      };
    });
  }
}
