import { plainToInstance, Type } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  MinLength,
  validateSync,
} from 'class-validator';

const URL_PG = /^postgres(ql)?:\/\/\S+$/;
// a `sidekiq_version` query parameter, when there is one, must be a version (6.4.1, 7.3)
const VERSION_PARAM = String.raw`(?!.*[?&]sidekiq_version=(?!\d+\.\d+(?:\.\d+)?(?:[&,\s]|$)))`;
const URL_REDIS = new RegExp(String.raw`^${VERSION_PARAM}rediss?:\/\/\S+$`);
// name=redis://host:port/db[?namespace=ns&sidekiq_version=6.4.1], comma separated
const INSTANCES = new RegExp(
  String.raw`^${VERSION_PARAM}\s*[A-Za-z0-9_-]+=rediss?:\/\/[^,\s]+(\s*,\s*[A-Za-z0-9_-]+=rediss?:\/\/[^,\s]+)*\s*$`,
);
const BOOL = ['true', 'false'];
const PROXY = String.raw`(loopback|linklocal|uniquelocal|[0-9a-fA-F:.]+(/\d{1,3})?)`;
const TRUST_PROXY = new RegExp(String.raw`^(false|\d{1,2}|${PROXY}(\s*,\s*${PROXY})*)$`);
// 5 or 6 fields (seconds first), as the cron package reads them
const CRON = /^\s*\S+(\s+\S+){4,5}\s*$/;

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
  // progress and custom data of finished jobs (sidekiq-status keeps them 30 minutes)
  @Type(() => Number) @IsInt() @Min(1) @Max(5_256_000) STATUS_DATA_TTL_MINUTES = 10_080;
  @Type(() => Number) @IsInt() @Min(100) @Max(100_000) RETENTION_BATCH = 5000;
  @Type(() => Number) @IsInt() @Min(1) @Max(1825) STATS_IMPORT_DAYS = 30;
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
