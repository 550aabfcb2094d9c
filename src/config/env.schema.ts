import { plainToInstance, Type } from 'class-transformer';
import { parseDeployOverrides } from './deploy-thresholds.js';
import { parseDetectorOverrides } from './detector-overrides.js';
import {
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  MinLength,
  validateSync,
} from 'class-validator';
import { parseRedaction } from './redaction.js';
import { parseAlertWebhooks } from './alert-webhooks.js';

const URL_PG = /^postgres(ql)?:\/\/\S+$/;
// a `sidekiq_version` query parameter, when there is one, must be a version (6.4.1, 7.3)
const VERSION_PARAM = String.raw`(?!.*[?&]sidekiq_version=(?!\d+\.\d+(?:\.\d+)?(?:[&,\s]|$)))`;
const URL_REDIS = new RegExp(String.raw`^${VERSION_PARAM}rediss?:\/\/\S+$`);
// name=redis://host:port/db[?namespace=ns&sidekiq_version=6.4.1&scheduler_key_prefix=p], comma separated
const INSTANCES = new RegExp(
  String.raw`^${VERSION_PARAM}\s*[A-Za-z0-9_-]+=rediss?:\/\/[^,\s]+(\s*,\s*[A-Za-z0-9_-]+=rediss?:\/\/[^,\s]+)*\s*$`,
);
const BOOL = ['true', 'false'];
const PROXY = String.raw`(loopback|linklocal|uniquelocal|[0-9a-fA-F:.]+(/\d{1,3})?)`;
const TRUST_PROXY = new RegExp(String.raw`^(false|\d{1,2}|${PROXY}(\s*,\s*${PROXY})*)$`);
// 5 or 6 fields (seconds first), as the cron package reads them
const CRON = /^\s*\S+(\s+\S+){4,5}\s*$/;

// job class names (Ruby constants, Mailer#method), comma separated
const CLASS_LIST = /^\s*[^\s,]{1,200}(\s*,\s*[^\s,]{1,200}){0,999}\s*$/;

export class EnvVars {
  @Matches(URL_PG, { message: 'must be a postgresql:// URL' }) DATABASE_URL!: string;
  @Matches(URL_REDIS, { message: 'must be a redis:// URL' }) REDIS_URL!: string;
  @IsString() @MinLength(32) PRIVATE_TOKEN!: string;

  @Type(() => Number) @IsInt() @Min(1) @Max(65535) PORT = 3000;
  @IsString() HOST = '127.0.0.1';
  @IsIn(['production', 'development', 'test']) NODE_ENV = 'development';
  @IsIn(['error', 'warn', 'log', 'debug', 'verbose']) LOG_LEVEL = 'log';

  @Type(() => Number) @IsInt() @Min(1) @Max(200) DATABASE_POOL_MAX = 10;
  @Type(() => Number) @IsInt() @Min(100) @Max(60_000) HEALTH_TIMEOUT_MS = 1500;

  @IsOptional()
  @Matches(INSTANCES, { message: 'must be name=redis://… pairs, comma separated' })
  SIDEKIQ_INSTANCES?: string;
  @IsOptional() @Matches(/^[A-Za-z0-9_:.-]+$/) SIDEKIQ_NAMESPACE?: string;
  // the default instance's Sidekiq version, used while none of its processes is alive
  @IsOptional() @Matches(/^\d+\.\d+(\.\d+)?$/) SIDEKIQ_VERSION?: string;
  // sidekiq-scheduler's key_prefix of the default instance (others: ?scheduler_key_prefix=)
  @IsOptional() @Matches(/^[A-Za-z0-9_:.-]{1,100}$/) SIDEKIQ_SCHEDULER_KEY_PREFIX?: string;
  @IsIn(BOOL) SIDEKIQ_READ_ONLY = 'false';
  // dead-set trim on kill and kill-all: Sidekiq's dead_max_jobs, dead_timeout_in_seconds (180 days)
  @Type(() => Number) @IsInt() @Min(1) @Max(100_000_000) SIDEKIQ_DEAD_MAX_JOBS = 10_000;
  @Type(() => Number) @IsInt() @Min(1) @Max(315_360_000) SIDEKIQ_DEAD_TIMEOUT_SECONDS = 15_552_000;
  // Sidekiq's Redis: a read (and a connection attempt) gives up after this long, so a route answers 503
  // within about this while Redis is down; a write already sent is awaited up to the write timeout
  // instead, since Redis may still run it after a client-side timeout
  @Type(() => Number) @IsInt() @Min(50) @Max(60_000) SIDEKIQ_REDIS_TIMEOUT_MS = 800;
  @Type(() => Number) @IsInt() @Min(100) @Max(600_000) SIDEKIQ_REDIS_WRITE_TIMEOUT_MS = 10_000;

  @Type(() => Number) @IsInt() @Min(1) @Max(10_000) INGEST_MAX_BATCH = 1000;
  @Matches(/^\d+(kb|mb)$/i, { message: 'must look like 512kb or 5mb' }) BODY_LIMIT = '5mb';
  @Type(() => Number) @IsInt() @Min(1) @Max(50_000) INGEST_GROUP_MAX_EVENTS = 5000;
  @Type(() => Number) @IsInt() @Min(1) @Max(64) INGEST_GROUP_CONCURRENCY = 4;
  // events (so at most as many jobs, each an advisory lock) in this copy's writer's running
  // transactions together: Postgres keeps every session's locks in one table of about
  // max_locks_per_transaction x max_connections entries (6,400 by default), and a full table
  // fails every session's locking
  @Type(() => Number) @IsInt() @Min(1) @Max(1_000_000) INGEST_LOCK_BUDGET = 4000;
  // a job's raw payload is kept while it may be pushed again (JobManager's restart needs it) and
  // dropped once it succeeded (README "Storage": ~160 bytes a job); true keeps every payload
  @IsIn(BOOL) KEEP_SUCCEEDED_PAYLOADS = 'false';

  // failed PRIVATE-TOKEN attempts per client address: AUTH_FAILURE_LIMIT at once, then the same
  // number again over AUTH_FAILURE_WINDOW_SECONDS; AUTH_FAILURE_ADDRESSES addresses remembered
  @Type(() => Number) @IsInt() @Min(1) @Max(1_000_000) AUTH_FAILURE_LIMIT = 100;
  @Type(() => Number) @IsInt() @Min(1) @Max(86_400) AUTH_FAILURE_WINDOW_SECONDS = 60;
  @Type(() => Number) @IsInt() @Min(1) @Max(10_000_000) AUTH_FAILURE_ADDRESSES = 10_000;
  // valid tokens are trusted this long without asking Postgres (a revocation on another copy
  // takes effect within it); AUTH_TOKEN_CACHE_SIZE valid and AUTH_UNKNOWN_CACHE_SIZE unknown hashes
  @Type(() => Number) @IsInt() @Min(0) @Max(300_000) AUTH_TOKEN_CACHE_MS = 5000;
  @Type(() => Number) @IsInt() @Min(1) @Max(10_000_000) AUTH_TOKEN_CACHE_SIZE = 10_000;
  @Type(() => Number) @IsInt() @Min(1) @Max(10_000_000) AUTH_UNKNOWN_CACHE_SIZE = 10_000;
  // Postgres connections that lookups of never-seen tokens may hold at once (the rest of the pool
  // stays with valid clients, whatever a flood of guesses from however many addresses does)
  @Type(() => Number) @IsInt() @Min(1) @Max(100) AUTH_UNKNOWN_LOOKUP_CONCURRENCY = 2;
  // tokens made without expires_at expire after TOKEN_DEFAULT_DAYS; none may be made (or rotated)
  // to live past TOKEN_MAX_DAYS (validateEnv: default <= max). A rotated token's old secret works
  // for at most TOKEN_MAX_GRACE_SECONDS after the rotation
  @Type(() => Number) @IsInt() @Min(1) @Max(36_500) TOKEN_DEFAULT_DAYS = 90;
  @Type(() => Number) @IsInt() @Min(1) @Max(36_500) TOKEN_MAX_DAYS = 365;
  @Type(() => Number) @IsInt() @Min(0) @Max(2_592_000) TOKEN_MAX_GRACE_SECONDS = 86_400;
  // Express's "trust proxy": false (the socket's address), a hop count, or the proxies' addresses
  // or ranges, comma separated. Never "true": any client could then name its own address
  @Matches(TRUST_PROXY, { message: 'must be false, a hop count or proxy addresses/ranges' })
  TRUST_PROXY = 'false';

  @IsIn(BOOL) METRICS_PUBLIC = 'false';
  // Sidekiq state read by a /metrics scrape is reused this long (0: read Redis on every scrape)
  @Type(() => Number) @IsInt() @Min(0) @Max(300_000) METRICS_CACHE_MS = 5000;
  @IsOptional()
  @Matches(/^[A-Za-z0-9.-]{1,253}$/, { message: 'must be a host name or IP' })
  STATSD_HOST?: string;
  @Type(() => Number) @IsInt() @Min(1) @Max(65535) STATSD_PORT = 8125;
  @Matches(/^[A-Za-z0-9_.-]{0,100}$/) STATSD_PREFIX = 'sidekiq_supervisor.';
  @IsIn(BOOL) SCHEDULER_ENABLED = 'true';
  @Matches(CRON, { message: 'must be a cron expression' }) STATS_SNAPSHOT_CRON = '0 * * * * *';
  @Matches(CRON, { message: 'must be a cron expression' }) STATS_IMPORT_CRON = '0 5 0 * * *';
  @Matches(CRON, { message: 'must be a cron expression' }) RETENTION_CRON = '0 17 * * * *';
  @Matches(CRON, { message: 'must be a cron expression' }) PARTITION_CRON = '0 7 * * * *';
  @Matches(CRON, { message: 'must be a cron expression' }) PERIODIC_CRON = '30 * * * * *';
  // a periodic job is overdue after this many of its intervals without a success
  @Type(() => Number) @IsInt() @Min(1) @Max(100) PERIODIC_OVERDUE_INTERVALS = 3;
  // a class without a cron definition gets a learned interval from this many recent successes
  @Type(() => Number) @IsInt() @Min(3) @Max(200) PERIODIC_LEARN_MIN_SUCCESSES = 10;
  // job_events' daily partitions made ahead of today: events keep landing in their own day's
  // partition through that many days without a partition tick
  @Type(() => Number) @IsInt() @Min(1) @Max(366) PARTITION_DAYS_AHEAD = 3;
  @Type(() => Number) @IsInt() @Min(1) @Max(36_500) SNAPSHOT_RETENTION_DAYS = 90;
  @Type(() => Number) @IsInt() @Min(1) @Max(36_500) JOB_RETENTION_DAYS = 90;
  // events go a whole day (partition) at a time; at most JOB_RETENTION_DAYS (validateEnv), since
  // an event without its job row could no longer be shown
  @Type(() => Number) @IsInt() @Min(1) @Max(36_500) EVENT_RETENTION_DAYS = 30;
  // audit records (README "Audit log"); at least JOB_RETENTION_DAYS (validateEnv), so a job's
  // page shows every action taken on it for as long as the job is kept
  @Type(() => Number) @IsInt() @Min(1) @Max(36_500) AUDIT_RETENTION_DAYS = 365;
  // progress and custom data of finished jobs (sidekiq-status keeps them 30 minutes)
  @Type(() => Number) @IsInt() @Min(1) @Max(5_256_000) STATUS_DATA_TTL_MINUTES = 10_080;
  @Type(() => Number) @IsInt() @Min(100) @Max(100_000) RETENTION_BATCH = 5000;
  // process heartbeats (README "Process heartbeats"): a process whose last heartbeat is older than
  // this is silent (its running jobs lost); Sidekiq's own process key expires after 60 s
  @Type(() => Number) @IsInt() @Min(1) @Max(86_400) PROCESS_HEARTBEAT_TIMEOUT = 60;
  // stopped (and long silent) process lives are kept this long, then removed by the retention tick
  @Type(() => Number) @IsInt() @Min(1) @Max(36_500) PROCESS_RETENTION_DAYS = 7;
  @Type(() => Number) @IsInt() @Min(1) @Max(1825) STATS_IMPORT_DAYS = 30;

  // webhook receivers of findings (README "Alerts"); parsed and checked by parseAlertWebhooks
  @IsOptional() @IsString() ALERT_WEBHOOKS?: string;
  @Matches(CRON, { message: 'must be a cron expression' }) ALERTS_CRON = '*/5 * * * * *';
  // the service's address as receivers' readers reach it, for links to a finding's job
  @IsOptional()
  @Matches(/^https?:\/\/[^\s?#]+$/, { message: 'must be an http(s) URL without query' })
  ALERT_LINK_BASE_URL?: string;
  @Type(() => Number) @IsInt() @Min(100) @Max(120_000) ALERT_TIMEOUT_MS = 5000;
  // attempts of one notification before it is given up (logged); retries wait
  // ALERT_RETRY_BASE_SECONDS, then twice as long each time, at most ALERT_RETRY_MAX_SECONDS
  @Type(() => Number) @IsInt() @Min(1) @Max(100) ALERT_MAX_ATTEMPTS = 8;
  @Type(() => Number) @IsInt() @Min(1) @Max(86_400) ALERT_RETRY_BASE_SECONDS = 10;
  @Type(() => Number) @IsInt() @Min(1) @Max(86_400) ALERT_RETRY_MAX_SECONDS = 900;
  // open findings a receiver tracks at once (its queue); more wait until some end
  @Type(() => Number) @IsInt() @Min(1) @Max(100_000) ALERT_QUEUE_MAX = 1000;
  // requests one receiver gets per tick at most
  @Type(() => Number) @IsInt() @Min(1) @Max(1000) ALERT_BATCH = 20;
  @Type(() => Number) @IsInt() @Min(1) @Max(36_500) ALERT_LOG_RETENTION_DAYS = 30;
  // failure fingerprints and deploy marks (README "Failures and deploys")
  @Matches(CRON, { message: 'must be a cron expression' }) FINGERPRINTS_CRON = '*/15 * * * * *';
  // a new failure's finding ends after this long without the failure
  @Type(() => Number) @IsInt() @Min(1) @Max(8760) FAILURE_NEW_QUIET_HOURS = 24;
  // the window each side of a deploy that its job classes are compared over
  @Type(() => Number) @IsInt() @Min(1) @Max(10_080) DEPLOY_WINDOW_MINUTES = 60;
  // a class regressed when its failure rate rose by more than these points with at least
  // DEPLOY_MIN_FAILURES failures, or its run-time p95 by more than this percentage with at least
  // DEPLOY_MIN_RUNS jobs on each side
  @Type(() => Number) @IsNumber() @Min(0) @Max(100) DEPLOY_FAILURE_RATE_POINTS = 5;
  @Type(() => Number) @IsInt() @Min(1) @Max(1_000_000) DEPLOY_MIN_FAILURES = 5;
  @Type(() => Number) @IsNumber() @Min(0) @Max(100_000) DEPLOY_P95_INCREASE_PERCENT = 50;
  @Type(() => Number) @IsInt() @Min(1) @Max(1_000_000) DEPLOY_MIN_RUNS = 20;
  // per-class thresholds, JSON: {"ReportJob": {"p95_increase_percent": 200, "min_runs": 50}}
  // (keys failure_rate_points, min_failures, p95_increase_percent, min_runs)
  @IsOptional() @IsString() DEPLOY_CLASS_OVERRIDES?: string;
  // the latest deploy is watched (and its regression findings kept open) this long
  @Type(() => Number) @IsInt() @Min(1) @Max(8760) DEPLOY_WATCH_HOURS = 24;
  // detectors (src/findings/): how often they run, and their thresholds (per class in
  // DETECTOR_OVERRIDES, JSON: {"ReportJob": {"stuck_floor_s": 600}})
  @Matches(CRON, { message: 'must be a cron expression' }) DETECTORS_CRON = '*/30 * * * * *';
  @Type(() => Number) @IsInt() @Min(1) @Max(86_400) DETECTOR_STUCK_FLOOR_S = 60;
  @Type(() => Number) @IsInt() @Min(1) @Max(1_000_000) DETECTOR_STUCK_MIN_SAMPLES = 20;
  @Type(() => Number) @IsInt() @Min(1) @Max(31_536_000) DETECTOR_STUCK_DEFAULT_S = 3600;
  // the runs a class's baseline is learnt from: its last DETECTOR_STUCK_SAMPLE_RUNS successes
  // within DETECTOR_STUCK_BASELINE_DAYS
  @Type(() => Number) @IsInt() @Min(1) @Max(365) DETECTOR_STUCK_BASELINE_DAYS = 7;
  @Type(() => Number) @IsInt() @Min(20) @Max(100_000) DETECTOR_STUCK_SAMPLE_RUNS = 5000;
  // a class's baseline is read again after this long (it moves slowly; reading it is most of an
  // evaluation's work); 0 reads every class's at every evaluation
  @Type(() => Number) @IsInt() @Min(0) @Max(86_400) DETECTOR_STUCK_BASELINE_TTL_S = 300;
  @Type(() => Number) @IsInt() @Min(1) @Max(31_536_000) DETECTOR_NEVER_STARTED_S = 600;
  // jobs whose last event is this recent are checked for a second start; a duplicate stays a
  // finding until its job has been quiet for DETECTOR_DUPLICATE_HOLD_S
  @Type(() => Number) @IsInt() @Min(1) @Max(86_400) DETECTOR_DUPLICATE_WINDOW_S = 120;
  @Type(() => Number) @IsInt() @Min(1) @Max(2_592_000) DETECTOR_DUPLICATE_HOLD_S = 3600;
  @IsOptional() @IsString() DETECTOR_OVERRIDES?: string;
  // redaction before storage and on the Sidekiq routes (README "Redaction"); parsed and checked
  // by parseRedaction: REDACT_KEYS a comma list ("defaults" for the built-in list, "none" alone for
  // no key rules), REDACT_PATTERNS a JSON array of regular expressions, REDACT_CLASSES a comma list
  @IsOptional() @IsString() REDACT_KEYS?: string;
  @IsOptional() @IsString() REDACT_PATTERNS?: string;
  @IsIn(['true', 'false']) REDACT_EMAILS = 'false';
  @IsOptional() @IsString() REDACT_CLASSES?: string;
  // classes whose runs must not overlap with the same arguments (an app's own lock, Sidekiq
  // Enterprise's unique jobs): two running at once is a duplicate finding; comma separated
  @IsOptional()
  @Matches(CLASS_LIST, { message: 'must be job class names, comma separated (at most 1000)' })
  DETECTOR_UNIQUE_CLASSES?: string;
}

export class InvalidEnvironmentError extends Error {
  constructor(
    readonly names: string[],
    rules: string[] = [],
  ) {
    // Names only: values may be secrets. All at once, not one per restart.
    super(`Invalid environment: ${[names.join(', '), ...rules].join('; ')}`);
    this.name = 'InvalidEnvironmentError';
  }
}

export function validateEnv(raw: Record<string, unknown>): EnvVars {
  const present = Object.fromEntries(
    Object.entries(raw).filter(([, value]) => value !== undefined && value !== ''),
  );
  const env = plainToInstance(EnvVars, present, { exposeDefaultValues: true });
  const names = validateSync(env, { skipMissingProperties: false }).map((e) => e.property);
  const rules: string[] = [];
  if (
    !names.includes('EVENT_RETENTION_DAYS') &&
    !names.includes('JOB_RETENTION_DAYS') &&
    env.EVENT_RETENTION_DAYS > env.JOB_RETENTION_DAYS
  ) {
    names.push('EVENT_RETENTION_DAYS');
    rules.push('EVENT_RETENTION_DAYS must be at most JOB_RETENTION_DAYS');
  }
  if (
    !names.includes('AUDIT_RETENTION_DAYS') &&
    !names.includes('JOB_RETENTION_DAYS') &&
    env.AUDIT_RETENTION_DAYS < env.JOB_RETENTION_DAYS
  ) {
    names.push('AUDIT_RETENTION_DAYS');
    rules.push('AUDIT_RETENTION_DAYS must be at least JOB_RETENTION_DAYS');
  }
  if (
    !names.includes('TOKEN_DEFAULT_DAYS') &&
    !names.includes('TOKEN_MAX_DAYS') &&
    env.TOKEN_DEFAULT_DAYS > env.TOKEN_MAX_DAYS
  ) {
    names.push('TOKEN_DEFAULT_DAYS');
    rules.push('TOKEN_DEFAULT_DAYS must be at most TOKEN_MAX_DAYS');
  }
  const webhooks = parseAlertWebhooks(env.ALERT_WEBHOOKS);
  if (webhooks.problems.length > 0 && !names.includes('ALERT_WEBHOOKS')) {
    names.push('ALERT_WEBHOOKS');
    rules.push(...webhooks.problems);
  }
  if (
    env.DEPLOY_CLASS_OVERRIDES !== undefined &&
    !names.includes('DEPLOY_CLASS_OVERRIDES') &&
    parseDeployOverrides(env.DEPLOY_CLASS_OVERRIDES) === null
  ) {
    names.push('DEPLOY_CLASS_OVERRIDES');
    rules.push(
      'DEPLOY_CLASS_OVERRIDES must be a JSON object of job class to {failure_rate_points, min_failures, p95_increase_percent, min_runs} (numbers ≥ 0)',
    );
  }
  const { problems } = parseDetectorOverrides(env.DETECTOR_OVERRIDES);
  if (problems.length > 0) {
    names.push('DETECTOR_OVERRIDES');
    rules.push(...problems);
  }
  const redaction = parseRedaction(env);
  for (const problem of redaction.problems) {
    const name = problem.replace(/[[ ].*$/, '');
    if (!names.includes(name)) {
      names.push(name);
    }
    rules.push(problem);
  }
  if (names.length > 0) {
    throw new InvalidEnvironmentError(names.sort(), rules);
  }
  return env;
}

/** For tools that need only the database (MikroORM CLI, migrate.ts): validates DATABASE_URL alone. */
export function databaseUrlFromEnv(raw: Record<string, unknown> = process.env): string {
  const url = raw.DATABASE_URL;
  if (typeof url !== 'string' || !URL_PG.test(url)) {
    throw new InvalidEnvironmentError(['DATABASE_URL']);
  }
  return url;
}
