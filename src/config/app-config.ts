import { type AlertReceiver, parseAlertWebhooks } from './alert-webhooks.js';
import { type DeployThresholds, parseDeployOverrides } from './deploy-thresholds.js';
import {
  type DetectorOverrides,
  type DetectorThresholds,
  parseDetectorOverrides,
} from './detector-overrides.js';
import type { EnvVars } from './env.schema.js';
import { parseRedaction } from './redaction.js';
import { Redactor } from '../common/redaction/redactor.js';

const DAY_MS = 86_400_000;

export interface SidekiqInstanceConfig {
  readonly name: string;
  readonly url: string;
  /** redis-namespace prefix (Sidekiq 6 apps), without the trailing colon; null when none */
  readonly namespace: string | null;
  /** the Sidekiq version declared for it (`?sidekiq_version=`), used while no process is alive */
  readonly sidekiqVersion: string | null;
  /** sidekiq-scheduler's `key_prefix` (`?scheduler_key_prefix=`), as the app sets it; null when none */
  readonly schedulerKeyPrefix: string | null;
}

/** The validated, frozen configuration; inject it, never read process.env elsewhere. */
export class AppConfig {
  readonly databaseUrl: string;
  readonly redisUrl: string;
  readonly privateToken: string;
  readonly port: number;
  readonly host: string;
  readonly nodeEnv: 'production' | 'development' | 'test';
  readonly logLevel: string;
  readonly databasePoolMax: number;
  readonly healthTimeoutMs: number;
  readonly sidekiqInstances: readonly SidekiqInstanceConfig[];
  readonly sidekiqReadOnly: boolean;
  /** DeadSet size cap on kill (Sidekiq's `dead_max_jobs`). */
  readonly sidekiqDeadMaxJobs: number;
  /** DeadSet age cap on kill, seconds (Sidekiq's `dead_timeout_in_seconds`). */
  readonly sidekiqDeadTimeoutSeconds: number;
  readonly sidekiqRedis: {
    /** each read command, the wait for a connection, and a connection attempt */
    readonly timeoutMs: number;
    /** each write command already sent */
    readonly writeTimeoutMs: number;
  };
  readonly ingest: {
    readonly maxBatch: number;
    readonly bodyLimit: string;
    readonly groupMaxEvents: number;
    readonly groupConcurrency: number;
    readonly lockBudget: number;
    /** keep the raw payload of succeeded jobs (else dropped when the job succeeds) */
    readonly keepSucceededPayloads: boolean;
  };
  readonly auth: {
    readonly failureLimit: number;
    readonly failureWindowMs: number;
    readonly failureAddresses: number;
    readonly tokenCacheMs: number;
    readonly tokenCacheSize: number;
    readonly unknownCacheSize: number;
    readonly unknownLookupConcurrency: number;
  };
  readonly tokens: {
    /** lifetime of a token made (or rotated) without expires_at */
    readonly defaultTtlMs: number;
    /** the longest lifetime a token may be given */
    readonly maxTtlMs: number;
    /** the longest a rotated token's old secret may keep working */
    readonly maxGraceMs: number;
  };
  /** Express's "trust proxy": which hops' X-Forwarded-For to believe for the client's address */
  readonly trustProxy: false | number | string[];
  readonly metricsPublic: boolean;
  readonly metricsCacheMs: number;
  /** null when STATSD_HOST is unset: no push */
  readonly statsd: { readonly host: string; readonly port: number; readonly prefix: string } | null;
  readonly schedulerEnabled: boolean;
  readonly scheduler: {
    readonly enabled: boolean;
    readonly snapshotCron: string;
    readonly importCron: string;
    readonly retentionCron: string;
    readonly partitionCron: string;
    readonly detectorsCron: string;
    /** the overdue check of periodic jobs */
    readonly periodicCron: string;
    /** job_events' daily partitions made ahead of today */
    readonly partitionDaysAhead: number;
    readonly fingerprintsCron: string;
  };
  readonly retention: {
    readonly snapshotDays: number;
    readonly jobDays: number;
    /** job_events, dropped a day (partition) at a time; at most jobDays */
    readonly eventDays: number;
    /** progress and custom data of finished jobs */
    readonly statusDataMinutes: number;
    /** audit records; at least jobDays */
    readonly auditDays: number;
    readonly batch: number;
    /** process lives stopped (or silent) for longer than this */
    readonly processDays: number;
  };
  readonly processes: {
    /** seconds without a heartbeat after which a process is silent and its running jobs lost */
    readonly heartbeatTimeoutSeconds: number;
  };
  readonly statsImportDays: number;
  readonly alerts: {
    readonly receivers: readonly AlertReceiver[];
    readonly cron: string;
    /** the service's base URL for links in notifications; null: no links */
    readonly linkBaseUrl: string | null;
    readonly timeoutMs: number;
    readonly maxAttempts: number;
    readonly retryBaseMs: number;
    readonly retryMaxMs: number;
    readonly queueMax: number;
    readonly batch: number;
    readonly logRetentionDays: number;
  };
  readonly failures: {
    /** a new failure's finding ends after this long without the failure */
    readonly newQuietHours: number;
  };
  readonly deploys: DeployThresholds & {
    /** minutes each side of a deploy */
    readonly windowMinutes: number;
    /** how long the latest deploy is watched for regressions */
    readonly watchHours: number;
    /** thresholds a job class sets for itself */
    readonly classOverrides: ReadonlyMap<string, Partial<DeployThresholds>>;
  };
  readonly detectors: {
    /** every class's thresholds unless DETECTOR_OVERRIDES names it */
    readonly defaults: DetectorThresholds;
    readonly overrides: DetectorOverrides;
    readonly baselineDays: number;
    readonly sampleRuns: number;
    /** how long a class's baseline is kept before it is read again (0: never kept) */
    readonly baselineTtlSeconds: number;
    readonly duplicateWindowSeconds: number;
    readonly duplicateHoldSeconds: number;
    /** classes whose runs must not overlap with the same arguments (DETECTOR_UNIQUE_CLASSES) */
    readonly uniqueClasses: readonly string[];
  };
  /** the redaction rules (README "Redaction"): before storage, and on the Sidekiq routes */
  readonly redactor: Redactor;
  readonly periodic: {
    /** intervals without a success before a periodic job is overdue */
    readonly overdueIntervals: number;
    /** successes a class without a cron definition needs before its interval is learned */
    readonly learnMinSuccesses: number;
  };

  constructor(env: EnvVars) {
    this.databaseUrl = env.DATABASE_URL;
    this.redisUrl = env.REDIS_URL;
    this.privateToken = env.PRIVATE_TOKEN;
    this.port = env.PORT;
    this.host = env.HOST;
    this.nodeEnv = env.NODE_ENV as AppConfig['nodeEnv'];
    this.logLevel = env.LOG_LEVEL;
    this.databasePoolMax = env.DATABASE_POOL_MAX;
    this.healthTimeoutMs = env.HEALTH_TIMEOUT_MS;
    this.sidekiqInstances = parseInstances(env);
    this.sidekiqReadOnly = env.SIDEKIQ_READ_ONLY === 'true';
    this.sidekiqDeadMaxJobs = env.SIDEKIQ_DEAD_MAX_JOBS;
    this.sidekiqDeadTimeoutSeconds = env.SIDEKIQ_DEAD_TIMEOUT_SECONDS;
    this.sidekiqRedis = Object.freeze({
      timeoutMs: env.SIDEKIQ_REDIS_TIMEOUT_MS,
      writeTimeoutMs: env.SIDEKIQ_REDIS_WRITE_TIMEOUT_MS,
    });
    this.ingest = Object.freeze({
      maxBatch: env.INGEST_MAX_BATCH,
      bodyLimit: env.BODY_LIMIT.toLowerCase(),
      groupMaxEvents: env.INGEST_GROUP_MAX_EVENTS,
      groupConcurrency: env.INGEST_GROUP_CONCURRENCY,
      lockBudget: env.INGEST_LOCK_BUDGET,
      keepSucceededPayloads: env.KEEP_SUCCEEDED_PAYLOADS === 'true',
    });
    this.auth = Object.freeze({
      failureLimit: env.AUTH_FAILURE_LIMIT,
      failureWindowMs: env.AUTH_FAILURE_WINDOW_SECONDS * 1000,
      failureAddresses: env.AUTH_FAILURE_ADDRESSES,
      tokenCacheMs: env.AUTH_TOKEN_CACHE_MS,
      tokenCacheSize: env.AUTH_TOKEN_CACHE_SIZE,
      unknownCacheSize: env.AUTH_UNKNOWN_CACHE_SIZE,
      unknownLookupConcurrency: env.AUTH_UNKNOWN_LOOKUP_CONCURRENCY,
    });
    this.tokens = Object.freeze({
      defaultTtlMs: env.TOKEN_DEFAULT_DAYS * DAY_MS,
      maxTtlMs: env.TOKEN_MAX_DAYS * DAY_MS,
      maxGraceMs: env.TOKEN_MAX_GRACE_SECONDS * 1000,
    });
    this.trustProxy = parseTrustProxy(env.TRUST_PROXY);
    this.metricsPublic = env.METRICS_PUBLIC === 'true';
    this.metricsCacheMs = env.METRICS_CACHE_MS;
    this.statsd = env.STATSD_HOST
      ? Object.freeze({ host: env.STATSD_HOST, port: env.STATSD_PORT, prefix: env.STATSD_PREFIX })
      : null;
    this.schedulerEnabled = env.SCHEDULER_ENABLED === 'true';
    this.scheduler = Object.freeze({
      enabled: this.schedulerEnabled,
      snapshotCron: env.STATS_SNAPSHOT_CRON.trim(),
      importCron: env.STATS_IMPORT_CRON.trim(),
      retentionCron: env.RETENTION_CRON.trim(),
      partitionCron: env.PARTITION_CRON.trim(),
      detectorsCron: env.DETECTORS_CRON.trim(),
      periodicCron: env.PERIODIC_CRON.trim(),
      partitionDaysAhead: env.PARTITION_DAYS_AHEAD,
      fingerprintsCron: env.FINGERPRINTS_CRON.trim(),
    });
    this.retention = Object.freeze({
      snapshotDays: env.SNAPSHOT_RETENTION_DAYS,
      jobDays: env.JOB_RETENTION_DAYS,
      eventDays: env.EVENT_RETENTION_DAYS,
      statusDataMinutes: env.STATUS_DATA_TTL_MINUTES,
      auditDays: env.AUDIT_RETENTION_DAYS,
      batch: env.RETENTION_BATCH,
      processDays: env.PROCESS_RETENTION_DAYS,
    });
    this.processes = Object.freeze({ heartbeatTimeoutSeconds: env.PROCESS_HEARTBEAT_TIMEOUT });
    this.statsImportDays = env.STATS_IMPORT_DAYS;
    this.redactor = new Redactor(parseRedaction(env).settings);
    this.alerts = Object.freeze({
      receivers: Object.freeze(parseAlertWebhooks(env.ALERT_WEBHOOKS).receivers),
      cron: env.ALERTS_CRON.trim(),
      linkBaseUrl: env.ALERT_LINK_BASE_URL?.replace(/\/+$/, '') ?? null,
      timeoutMs: env.ALERT_TIMEOUT_MS,
      maxAttempts: env.ALERT_MAX_ATTEMPTS,
      retryBaseMs: env.ALERT_RETRY_BASE_SECONDS * 1000,
      retryMaxMs: env.ALERT_RETRY_MAX_SECONDS * 1000,
      queueMax: env.ALERT_QUEUE_MAX,
      batch: env.ALERT_BATCH,
      logRetentionDays: env.ALERT_LOG_RETENTION_DAYS,
    });
    this.failures = Object.freeze({ newQuietHours: env.FAILURE_NEW_QUIET_HOURS });
    this.deploys = Object.freeze({
      windowMinutes: env.DEPLOY_WINDOW_MINUTES,
      failureRatePoints: env.DEPLOY_FAILURE_RATE_POINTS,
      minFailures: env.DEPLOY_MIN_FAILURES,
      p95IncreasePercent: env.DEPLOY_P95_INCREASE_PERCENT,
      minRuns: env.DEPLOY_MIN_RUNS,
      watchHours: env.DEPLOY_WATCH_HOURS,
      classOverrides: env.DEPLOY_CLASS_OVERRIDES
        ? (parseDeployOverrides(env.DEPLOY_CLASS_OVERRIDES) ?? new Map())
        : new Map(),
    });
    this.detectors = Object.freeze({
      defaults: Object.freeze({
        stuckFloorSeconds: env.DETECTOR_STUCK_FLOOR_S,
        stuckMinSamples: env.DETECTOR_STUCK_MIN_SAMPLES,
        stuckDefaultSeconds: env.DETECTOR_STUCK_DEFAULT_S,
        neverStartedSeconds: env.DETECTOR_NEVER_STARTED_S,
        overdueIntervals: env.PERIODIC_OVERDUE_INTERVALS,
      }),
      overrides: parseDetectorOverrides(env.DETECTOR_OVERRIDES).overrides,
      baselineDays: env.DETECTOR_STUCK_BASELINE_DAYS,
      sampleRuns: env.DETECTOR_STUCK_SAMPLE_RUNS,
      baselineTtlSeconds: env.DETECTOR_STUCK_BASELINE_TTL_S,
      duplicateWindowSeconds: env.DETECTOR_DUPLICATE_WINDOW_S,
      duplicateHoldSeconds: env.DETECTOR_DUPLICATE_HOLD_S,
      uniqueClasses: Object.freeze([
        ...new Set(
          (env.DETECTOR_UNIQUE_CLASSES ?? '')
            .split(',')
            .map((c) => c.trim())
            .filter((c) => c !== ''),
        ),
      ]),
    });
    this.periodic = Object.freeze({
      overdueIntervals: env.PERIODIC_OVERDUE_INTERVALS,
      learnMinSuccesses: env.PERIODIC_LEARN_MIN_SUCCESSES,
    });
    Object.freeze(this);
  }
}

export const DEFAULT_INSTANCE = 'default';

function parseTrustProxy(value: string): AppConfig['trustProxy'] {
  if (value === 'false') {
    return false;
  }
  if (/^\d+$/.test(value)) {
    return Number(value);
  }
  return Object.freeze(value.split(',').map((part) => part.trim())) as string[];
}

function splitNamespace(rawUrl: string): {
  url: string;
  namespace: string | null;
  sidekiqVersion: string | null;
  schedulerKeyPrefix: string | null;
} {
  const url = new URL(rawUrl);
  const namespace = url.searchParams.get('namespace');
  const sidekiqVersion = url.searchParams.get('sidekiq_version');
  const schedulerKeyPrefix = url.searchParams.get('scheduler_key_prefix');
  url.searchParams.delete('namespace');
  url.searchParams.delete('sidekiq_version');
  url.searchParams.delete('scheduler_key_prefix');
  return {
    url: url.toString(),
    namespace: namespace || null,
    sidekiqVersion: sidekiqVersion || null,
    schedulerKeyPrefix: schedulerKeyPrefix || null,
  };
}

function parseInstances(env: EnvVars): SidekiqInstanceConfig[] {
  const fallback = splitNamespace(env.REDIS_URL);
  const instances: SidekiqInstanceConfig[] = [
    {
      name: DEFAULT_INSTANCE,
      url: fallback.url,
      namespace: fallback.namespace ?? env.SIDEKIQ_NAMESPACE ?? null,
      sidekiqVersion: fallback.sidekiqVersion ?? env.SIDEKIQ_VERSION ?? null,
      schedulerKeyPrefix: fallback.schedulerKeyPrefix ?? env.SIDEKIQ_SCHEDULER_KEY_PREFIX ?? null,
    },
  ];
  for (const pair of (env.SIDEKIQ_INSTANCES ?? '').split(',')) {
    const trimmed = pair.trim();
    if (!trimmed) {
      continue;
    }
    const eq = trimmed.indexOf('=');
    const name = trimmed.slice(0, eq);
    const entry = { name, ...splitNamespace(trimmed.slice(eq + 1)) };
    const existing = instances.findIndex((i) => i.name === name);
    if (existing >= 0) {
      instances[existing] = entry;
    } else {
      instances.push(entry);
    }
  }
  return instances.map((i) => Object.freeze(i));
}
