import { TimestampFormat } from '../payload/job-record.js';
import {
  buildCronPush,
  type CronHash,
  decodeCronHash,
  formatEnqueueTime,
  parseEnqueueTime,
} from './cron-definition.js';

// Hashes as Debian's ruby-sidekiq-cron 1.8 wrote them (test/ruby/sidekiq_cron.rb seed, HGETALL)
function capturedHash(overrides: Partial<CronHash> = {}): CronHash {
  return {
    name: 'minute_sweep',
    cron: '* * * * *',
    klass: 'MinuteSweepJob',
    args: '[1,"two"]',
    message: '{"retry":true,"queue":"default","class":"MinuteSweepJob","args":[1,"two"]}',
    status: 'enabled',
    last_enqueue_time: '2026-12-04 21:13:49 +0000',
    description: '',
    date_as_argument: 'false',
    active_job: 'false',
    queue_name_prefix: '',
    queue_name_delimiter: '',
    ...overrides,
  };
}

const NOW_MS = Date.parse('2026-12-04T21:20:00.250Z');

describe('decodeCronHash', () => {
  it('reads a captured hash as the gem does: queue from the message, empty fields as none', () => {
    expect(decodeCronHash(capturedHash())).toEqual({
      name: 'minute_sweep',
      cron: '* * * * *',
      jobClass: 'MinuteSweepJob',
      queue: 'default',
      argsText: '[1,"two"]',
      description: null,
      status: 'enabled',
      lastEnqueueTime: new Date('2026-12-04T21:13:49Z'),
      dateAsArgument: false,
      activeJob: false,
      queueNamePrefix: null,
      queueNameDelimiter: null,
      messageText: '{"retry":true,"queue":"default","class":"MinuteSweepJob","args":[1,"two"]}',
    });
  });

  it('takes a missing status as enabled and any other value as disabled (Job#enabled?)', () => {
    expect(decodeCronHash(capturedHash({ status: null }))!.status).toBe('enabled');
    expect(decodeCronHash(capturedHash({ status: 'disabled' }))!.status).toBe('disabled');
    expect(decodeCronHash(capturedHash({ status: 'paused' }))!.status).toBe('disabled');
  });

  it('skips a hash the gem would not load (no name, cron or class)', () => {
    expect(decodeCronHash(capturedHash({ cron: '' }))).toBeNull();
    expect(decodeCronHash(capturedHash({ klass: null }))).toBeNull();
  });
});

describe('enqueue times', () => {
  it('round-trips LAST_ENQUEUE_TIME_FORMAT in UTC, and reads an offset', () => {
    const at = new Date('2026-12-04T21:13:49Z');
    expect(formatEnqueueTime(at)).toBe('2026-12-04 21:13:49 +0000');
    expect(parseEnqueueTime('2026-12-04 22:13:49 +0100')).toEqual(at);
    expect(parseEnqueueTime('')).toBeNull();
  });
});

describe('buildCronPush', () => {
  const options = { jid: 'a'.repeat(24), nowMs: NOW_MS, timestampFormat: TimestampFormat.Seconds };

  it('pushes the stored message with the stored args, as Client.push normalizes it', () => {
    const push = buildCronPush(decodeCronHash(capturedHash())!, options);
    expect(push).toEqual({
      queue: 'default',
      payload:
        '{"retry":true,"queue":"default","class":"MinuteSweepJob","args":[1,"two"],' +
        `"jid":"${'a'.repeat(24)}","created_at":1796419200.25,"enqueued_at":1796419200.25}`,
    });
  });

  it('puts retry first when the message has none and appends the time for date_as_argument', () => {
    // the captured nightly_paris job: a class the pushing process does not define
    const def = decodeCronHash(
      capturedHash({
        klass: 'Remote::NightlyJob',
        args: '[]',
        message: '{"queue":"critical","class":"Remote::NightlyJob","args":[]}',
        date_as_argument: 'true',
      }),
    )!;
    expect(buildCronPush(def, options)!.payload).toBe(
      '{"retry":true,"queue":"critical","class":"Remote::NightlyJob","args":[1796419200.25],' +
        `"jid":"${'a'.repeat(24)}","created_at":1796419200.25,"enqueued_at":1796419200.25}`,
    );
    const withArgs = { ...def, argsText: '[1, 2]' };
    expect(JSON.parse(buildCronPush(withArgs, options)!.payload).args).toEqual([
      1, 2, 1796419200.25,
    ]);
  });

  it('keeps argument text exactly (a big integer stays exact) and writes Sidekiq 8 milliseconds', () => {
    const def = decodeCronHash(capturedHash({ args: '[18446744073709551617]' }))!;
    const push = buildCronPush(def, { ...options, timestampFormat: TimestampFormat.Millis })!;
    expect(push.payload).toContain('"args":[18446744073709551617]');
    expect(push.payload).toContain(`"created_at":${Math.floor(NOW_MS)}`);
  });

  it('wraps an Active Job as active_job_message does, with the queue prefix', () => {
    const def = decodeCronHash(
      capturedHash({ active_job: 'true', queue_name_prefix: 'prod', args: '["x"]' }),
    )!;
    const push = buildCronPush(def, options)!;
    expect(push.queue).toBe('prod_default');
    expect(JSON.parse(push.payload)).toMatchObject({
      retry: true,
      queue: 'prod_default',
      class: 'ActiveJob::QueueAdapters::SidekiqAdapter::JobWrapper',
      wrapped: 'MinuteSweepJob',
      args: [{ job_class: 'MinuteSweepJob', queue_name: 'prod_default', arguments: ['x'] }],
      jid: 'a'.repeat(24),
    });
  });
});
