import { parseDetectorOverrides, thresholdsFor } from './detector-overrides.js';
import { InvalidEnvironmentError, validateEnv } from './env.schema.js';
import { AppConfig } from './app-config.js';

const VALID = {
  DATABASE_URL: 'postgresql://app@127.0.0.1:5432/app',
  REDIS_URL: 'redis://127.0.0.1:6379/0',
  PRIVATE_TOKEN: 'a'.repeat(32),
};

const DEFAULTS = {
  stuckFloorSeconds: 60,
  stuckMinSamples: 20,
  stuckDefaultSeconds: 3600,
  neverStartedSeconds: 600,
  overdueIntervals: 3,
};

describe('DETECTOR_OVERRIDES', () => {
  it('gives a class its own thresholds over the defaults, and others the defaults', () => {
    const { overrides, problems } = parseDetectorOverrides(
      '{"ReportJob": {"stuck_floor_s": 600, "never_started_s": 3600}}',
    );
    expect(problems).toEqual([]);
    expect(thresholdsFor(DEFAULTS, overrides, 'ReportJob')).toEqual({
      ...DEFAULTS,
      stuckFloorSeconds: 600,
      neverStartedSeconds: 3600,
      overdueIntervals: 3,
    });
    expect(thresholdsFor(DEFAULTS, overrides, 'OtherJob')).toEqual(DEFAULTS);
    expect(thresholdsFor(DEFAULTS, overrides, null)).toEqual(DEFAULTS);
  });

  it('names every class and key at fault', () => {
    const { problems } = parseDetectorOverrides(
      '{"A": {"stuck_floor": 1}, "B": {"stuck_floor_s": -5}, "C": {"never_started_s": 1.5}, "D": 3}',
    );
    expect(problems).toEqual([
      'DETECTOR_OVERRIDES.A.stuck_floor is not a setting (stuck_floor_s, stuck_min_samples, stuck_default_s, never_started_s, overdue_intervals)',
      'DETECTOR_OVERRIDES.B.stuck_floor_s must be a whole number from 1 to 31536000',
      'DETECTOR_OVERRIDES.C.never_started_s must be a whole number from 1 to 31536000',
      'DETECTOR_OVERRIDES.D must be an object',
    ]);
    expect(parseDetectorOverrides('{nope').problems).toEqual([
      'DETECTOR_OVERRIDES must be a JSON object',
    ]);
    expect(parseDetectorOverrides('[1]').problems).toEqual([
      'DETECTOR_OVERRIDES must be a JSON object of job classes',
    ]);
  });

  it('gives a periodic class its own overdue intervals, at most 100', () => {
    const { overrides, problems } = parseDetectorOverrides(
      '{"NightlyJob": {"overdue_intervals": 1}, "E": {"overdue_intervals": 101}}',
    );
    expect(problems).toEqual([
      'DETECTOR_OVERRIDES.E.overdue_intervals must be a whole number from 1 to 100',
    ]);
    expect(thresholdsFor(DEFAULTS, overrides, 'NightlyJob').overdueIntervals).toBe(1);
  });

  it('reads DETECTOR_UNIQUE_CLASSES as a list, and refuses what is not one', () => {
    const config = new AppConfig(
      validateEnv({ ...VALID, DETECTOR_UNIQUE_CLASSES: ' SyncJob, Billing::ChargeJob,SyncJob ' }),
    );
    expect(config.detectors.uniqueClasses).toEqual(['SyncJob', 'Billing::ChargeJob']);
    expect(new AppConfig(validateEnv(VALID)).detectors.uniqueClasses).toEqual([]);
    expect(() => validateEnv({ ...VALID, DETECTOR_UNIQUE_CLASSES: 'A,,B' })).toThrow(
      /DETECTOR_UNIQUE_CLASSES/,
    );
  });

  it('stops the service at boot with the reasons', () => {
    let caught: unknown;
    try {
      validateEnv({ ...VALID, DETECTOR_OVERRIDES: '{"ReportJob": {"stuck_floor_s": "600"}}' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidEnvironmentError);
    expect((caught as InvalidEnvironmentError).names).toEqual(['DETECTOR_OVERRIDES']);
    expect((caught as Error).message).toBe(
      'Invalid environment: DETECTOR_OVERRIDES; DETECTOR_OVERRIDES.ReportJob.stuck_floor_s must be a whole number from 1 to 31536000',
    );
  });

  it('reaches AppConfig with the defaults', () => {
    const config = new AppConfig(
      validateEnv({ ...VALID, DETECTOR_OVERRIDES: '{"ReportJob": {"stuck_min_samples": 5}}' }),
    );
    expect(config.scheduler.detectorsCron).toBe('*/30 * * * * *');
    expect(config.detectors.defaults).toEqual(DEFAULTS);
    expect(config.detectors.overrides.get('ReportJob')).toEqual({ stuckMinSamples: 5 });
  });
});
