import { AppConfig } from './app-config.js';
import { InvalidEnvironmentError, validateEnv } from './env.schema.js';

const VALID = {
  DATABASE_URL: 'postgresql://app@127.0.0.1:5432/app',
  REDIS_URL: 'redis://127.0.0.1:6379/0',
  PRIVATE_TOKEN: 'a'.repeat(32),
};

describe('validateEnv', () => {
  it('applies defaults to a minimal valid environment', () => {
    const env = validateEnv(VALID);
    expect(env.PORT).toBe(3000);
    expect(env.INGEST_MAX_BATCH).toBe(1000);
  });

  it('lists every bad variable by name and never its value', () => {
    const secret = 'short-secret';
    let caught: unknown;
    try {
      validateEnv({
        DATABASE_URL: 'mysql://x',
        PRIVATE_TOKEN: secret,
        PORT: 'eighty',
        SIDEKIQ_READ_ONLY: 'yes',
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidEnvironmentError);
    const error = caught as InvalidEnvironmentError;
    expect(error.names).toEqual([
      'DATABASE_URL',
      'PORT',
      'PRIVATE_TOKEN',
      'REDIS_URL',
      'SIDEKIQ_READ_ONLY',
    ]);
    expect(error.message).not.toContain(secret);
    expect(error.message).not.toContain('mysql');
  });

  it('keeps events no longer than job summaries (EVENT_RETENTION_DAYS <= JOB_RETENTION_DAYS)', () => {
    const defaults = new AppConfig(validateEnv(VALID));
    expect(defaults.retention).toMatchObject({ eventDays: 30, jobDays: 90 });
    expect(defaults.scheduler).toMatchObject({
      partitionCron: '0 7 * * * *',
      partitionDaysAhead: 3,
    });
    const equal = validateEnv({ ...VALID, EVENT_RETENTION_DAYS: '7', JOB_RETENTION_DAYS: '7' });
    expect(equal.EVENT_RETENTION_DAYS).toBe(7);
    expect(() => validateEnv({ ...VALID, EVENT_RETENTION_DAYS: '91' })).toThrow(
      'Invalid environment: EVENT_RETENTION_DAYS; EVENT_RETENTION_DAYS must be at most JOB_RETENTION_DAYS',
    );
    expect(() =>
      validateEnv({ ...VALID, EVENT_RETENTION_DAYS: '10', JOB_RETENTION_DAYS: '5' }),
    ).toThrow(/must be at most JOB_RETENTION_DAYS/);
  });

  it('keeps audit records at least as long as jobs (AUDIT_RETENTION_DAYS >= JOB_RETENTION_DAYS)', () => {
    expect(new AppConfig(validateEnv(VALID)).retention.auditDays).toBe(365);
    expect(validateEnv({ ...VALID, AUDIT_RETENTION_DAYS: '90' }).AUDIT_RETENTION_DAYS).toBe(90);
    expect(() => validateEnv({ ...VALID, AUDIT_RETENTION_DAYS: '89' })).toThrow(
      'Invalid environment: AUDIT_RETENTION_DAYS; AUDIT_RETENTION_DAYS must be at least JOB_RETENTION_DAYS',
    );
  });

  it('checks the redaction knobs at startup, naming a bad pattern by position only', () => {
    let caught: unknown;
    try {
      validateEnv({
        ...VALID,
        REDACT_PATTERNS: '["ok-[0-9]+", "(secret-x+)+"]',
        REDACT_EMAILS: 'yes',
        REDACT_KEYS: 'password,--',
      });
    } catch (error) {
      caught = error;
    }
    const error = caught as InvalidEnvironmentError;
    expect(error).toBeInstanceOf(InvalidEnvironmentError);
    expect(error.names).toEqual(['REDACT_EMAILS', 'REDACT_KEYS', 'REDACT_PATTERNS']);
    expect(error.message).toContain('REDACT_PATTERNS[1] repeats a group');
    expect(error.message).not.toContain('secret-x');
    const config = new AppConfig(
      validateEnv({ ...VALID, REDACT_PATTERNS: '["ok-[0-9]+"]', REDACT_CLASSES: 'A, B' }),
    );
    expect(config.redactor.redactString('id ok-42')).toBe('id [REDACTED]');
    expect(config.redactor.hidesClass('B')).toBe(true);
  });
});

describe('AppConfig', () => {
  it('parses Sidekiq instances with namespaces, REDIS_URL as the default', () => {
    const config = new AppConfig(
      validateEnv({
        ...VALID,
        REDIS_URL: 'redis://127.0.0.1:6379/0?namespace=legacy',
        SIDEKIQ_INSTANCES: 'eu=redis://10.0.0.1:6379/1, us=redis://10.0.0.2:6379/2?namespace=app',
      }),
    );
    expect(config.sidekiqInstances.map((i) => [i.name, i.url, i.namespace])).toEqual([
      ['default', 'redis://127.0.0.1:6379/0', 'legacy'],
      ['eu', 'redis://10.0.0.1:6379/1', null],
      ['us', 'redis://10.0.0.2:6379/2', 'app'],
    ]);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads a declared Sidekiq version per instance (?sidekiq_version=, SIDEKIQ_VERSION)', () => {
    const config = new AppConfig(
      validateEnv({
        ...VALID,
        SIDEKIQ_VERSION: '6.4.1',
        SIDEKIQ_INSTANCES:
          'eu=redis://10.0.0.1:6379/1?sidekiq_version=7.3.5&namespace=app, us=redis://10.0.0.2:6379/2',
      }),
    );
    expect(
      config.sidekiqInstances.map((i) => [i.name, i.url, i.namespace, i.sidekiqVersion]),
    ).toEqual([
      ['default', 'redis://127.0.0.1:6379/0', null, '6.4.1'],
      ['eu', 'redis://10.0.0.1:6379/1', 'app', '7.3.5'],
      ['us', 'redis://10.0.0.2:6379/2', null, null],
    ]);
    for (const bad of [
      { SIDEKIQ_VERSION: 'six' },
      { SIDEKIQ_INSTANCES: 'eu=redis://h:6379/1?sidekiq_version=latest' },
      { REDIS_URL: 'redis://h:6379/0?sidekiq_version=7' },
    ]) {
      expect(() => validateEnv({ ...VALID, ...bad })).toThrow(InvalidEnvironmentError);
    }
  });

  it("reads sidekiq-scheduler's key_prefix per instance (?scheduler_key_prefix=, SIDEKIQ_SCHEDULER_KEY_PREFIX)", () => {
    const config = new AppConfig(
      validateEnv({
        ...VALID,
        SIDEKIQ_SCHEDULER_KEY_PREFIX: 'billing',
        SIDEKIQ_INSTANCES:
          'eu=redis://10.0.0.1:6379/1?scheduler_key_prefix=app.&namespace=ns, us=redis://10.0.0.2:6379/2',
      }),
    );
    expect(
      config.sidekiqInstances.map((i) => [i.name, i.url, i.namespace, i.schedulerKeyPrefix]),
    ).toEqual([
      ['default', 'redis://127.0.0.1:6379/0', null, 'billing'],
      ['eu', 'redis://10.0.0.1:6379/1', 'ns', 'app.'],
      ['us', 'redis://10.0.0.2:6379/2', null, null],
    ]);
    expect(() => validateEnv({ ...VALID, SIDEKIQ_SCHEDULER_KEY_PREFIX: 'a b' })).toThrow(
      InvalidEnvironmentError,
    );
  });

  it('pushes to StatsD only with STATSD_HOST, and reads the metrics settings', () => {
    const off = new AppConfig(validateEnv(VALID));
    expect(off.statsd).toBeNull();
    expect(off.metricsPublic).toBe(false);
    expect(off.metricsCacheMs).toBe(5000);
    const on = new AppConfig(
      validateEnv({
        ...VALID,
        STATSD_HOST: 'statsd.internal',
        STATSD_PORT: '9125',
        METRICS_PUBLIC: 'true',
        METRICS_CACHE_MS: '0',
      }),
    );
    expect(on.statsd).toEqual({
      host: 'statsd.internal',
      port: 9125,
      prefix: 'sidekiq_supervisor.',
    });
    expect(on.metricsPublic).toBe(true);
    expect(on.metricsCacheMs).toBe(0);
    expect(() => validateEnv({ ...VALID, STATSD_HOST: 'bad host;' })).toThrow(/STATSD_HOST/);
  });

  it('reads the auth limits and TRUST_PROXY (false, a hop count, or addresses)', () => {
    const defaults = new AppConfig(validateEnv(VALID));
    expect(defaults.auth).toEqual({
      failureLimit: 100,
      failureWindowMs: 60_000,
      failureAddresses: 10_000,
      tokenCacheMs: 5000,
      tokenCacheSize: 10_000,
      unknownCacheSize: 10_000,
      unknownLookupConcurrency: 2,
    });
    expect(defaults.trustProxy).toBe(false);
    const hops = new AppConfig(validateEnv({ ...VALID, TRUST_PROXY: '1' }));
    expect(hops.trustProxy).toBe(1);
    const list = new AppConfig(
      validateEnv({ ...VALID, TRUST_PROXY: 'loopback, 10.0.0.0/8,fd00::/8' }),
    );
    expect(list.trustProxy).toEqual(['loopback', '10.0.0.0/8', 'fd00::/8']);
    expect(() => validateEnv({ ...VALID, TRUST_PROXY: 'true' })).toThrow(/TRUST_PROXY/);
    expect(() => validateEnv({ ...VALID, TRUST_PROXY: 'a b' })).toThrow(/TRUST_PROXY/);
    expect(() => validateEnv({ ...VALID, AUTH_FAILURE_LIMIT: '0' })).toThrow(/AUTH_FAILURE_LIMIT/);
  });

  it('gives new tokens a default lifetime no longer than the maximum (TOKEN_DEFAULT_DAYS <= TOKEN_MAX_DAYS)', () => {
    expect(new AppConfig(validateEnv(VALID)).tokens).toEqual({
      defaultTtlMs: 90 * 86_400_000,
      maxTtlMs: 365 * 86_400_000,
      maxGraceMs: 86_400_000,
    });
    const config = new AppConfig(
      validateEnv({ ...VALID, TOKEN_DEFAULT_DAYS: '30', TOKEN_MAX_DAYS: '30' }),
    );
    expect(config.tokens).toMatchObject({
      defaultTtlMs: 30 * 86_400_000,
      maxTtlMs: 30 * 86_400_000,
    });
    expect(() => validateEnv({ ...VALID, TOKEN_DEFAULT_DAYS: '366' })).toThrow(
      'Invalid environment: TOKEN_DEFAULT_DAYS; TOKEN_DEFAULT_DAYS must be at most TOKEN_MAX_DAYS',
    );
    expect(() => validateEnv({ ...VALID, TOKEN_MAX_DAYS: '0' })).toThrow(
      /^Invalid environment: TOKEN_MAX_DAYS$/,
    );
  });

  it('reads per-class deploy thresholds, and names DEPLOY_CLASS_OVERRIDES when they are not JSON thresholds', () => {
    const config = new AppConfig(
      validateEnv({
        ...VALID,
        DEPLOY_CLASS_OVERRIDES:
          '{"Billing::ReportJob": {"p95_increase_percent": 200, "min_runs": 5}}',
      }),
    );
    expect(config.deploys).toMatchObject({ p95IncreasePercent: 50, minRuns: 20 });
    expect(config.deploys.classOverrides.get('Billing::ReportJob')).toEqual({
      p95IncreasePercent: 200,
      minRuns: 5,
    });
    expect(new AppConfig(validateEnv(VALID)).deploys.classOverrides.size).toBe(0);
    for (const bad of ['[]', '{"A": {"p95": 1}}', '{"A": {"min_runs": -1}}', '{"A": 3}', 'nope']) {
      expect(() => validateEnv({ ...VALID, DEPLOY_CLASS_OVERRIDES: bad })).toThrow(
        /Invalid environment: DEPLOY_CLASS_OVERRIDES; DEPLOY_CLASS_OVERRIDES must be a JSON object/,
      );
    }
  });
});
