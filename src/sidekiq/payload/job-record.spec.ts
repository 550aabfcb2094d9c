import { stringifyExact } from '../../common/json/ruby-json.js';
import {
  decodeJob,
  DisplayRules,
  hasJid,
  jobLatency,
  queueLatency,
  sortedEntryKey,
  TimestampFormat,
} from './job-record.js';
import { toEpochSeconds } from './payload-values.js';
import { apiRead, decoded, key, members, v7, v8 } from '../../../test/support/sidekiq-captures.js';

describe('decodeJob on payloads captured from Sidekiq 6.4.1', () => {
  const parked = key('queue:parked') as string[];

  it('decodes the Active Job wrapper as JobRecord did (display class, legacy display args)', () => {
    const sut = decoded(decodeJob(parked[1]!, DisplayRules.Legacy));
    const ruby = apiRead.aj_record;
    expect(sut.klass).toBe(ruby.klass);
    expect(sut.displayClass).toBe(ruby.display_class);
    expect(sut.displayArgs).toEqual(ruby.display_args);
    expect(sut.enqueuedAt).toBe(ruby.enqueued_at);
    expect(sut.createdAt).toBe(ruby.created_at);
    expect(sut.timestampFormat).toBe(TimestampFormat.Seconds);
  });

  it('keeps bid and tags', () => {
    expect(decoded(decodeJob(parked[0]!)).bid).toBe('fakeBID123');
    expect(decoded(decodeJob(parked[2]!)).tags).toEqual(['alpha', 'beta']);
    expect(decoded(decodeJob(parked[3]!)).tags).toEqual([]);
  });

  it('decodes retry entries with error fields and the newline-wrapped Base64 backtrace', () => {
    for (const [index, member] of members('retry').entries()) {
      const ruby = (apiRead.retry_each as any[]).find((r) => r.value === member);
      const sut = decoded(decodeJob(member));
      expect(sut.jid).toBe(ruby.jid);
      expect(sut.klass).toBe(ruby.class);
      expect(sut.queue).toBe(ruby.queue);
      // api-read.json's first line was shortened after capture (the path inside the raw payload is absolute)
      expect(sut.errorBacktrace!.slice(1)).toEqual(ruby.error_backtrace.slice(1));
      expect(sut.errorBacktrace![0]!.endsWith(ruby.error_backtrace[0])).toBe(true);
      expect(sut.errorClass).toBe('ArgumentError');
      expect(sut.retryCount).toBe(0);
      expect(sut.failedAt).toBeGreaterThan(1.7e9);
      expect(index).toBeGreaterThanOrEqual(0);
    }
  });

  it('decodes dead entries with retried_at and retry: 0', () => {
    const sut = decoded(decodeJob(members('dead')[2]!));
    expect(sut.retry).toBe(1);
    expect(sut.retryCount).toBe(1);
    expect(sut.retriedAt).toBe(1795394283.5067856);
    const first = decoded(decodeJob(members('dead')[0]!));
    expect(first.retry).toBe(0);
    expect(first.errorMessage).toBe('DeadJob goes straight to the morgue');
  });

  it('falls back to enqueued_at for created_at and computes latency as JobRecord#latency', () => {
    const sut = decodeJob('{"class":"X","args":[],"jid":"a","enqueued_at":100.5}');
    expect(decoded(sut).createdAt).toBe(100.5);
    expect(jobLatency(sut, 110)).toBeCloseTo(9.5);
    expect(jobLatency(decodeJob('{"class":"X","args":[]}'), 110)).toBe(0);
    expect(jobLatency(decodeJob('{"class":"X","args":[],"created_at":100}'), 110)).toBe(10);
    expect(decoded(decodeJob('{"class":"X","args":[]}')).createdAt).toBe(0); // Time.at(0)
  });
});

describe('decodeJob on 7.x shapes', () => {
  it('unwraps GlobalIDs and drops _aj_ keys with modern rules, keeps them with legacy rules', () => {
    const modern = decoded(decodeJob(v7.queue_active_job_globalid, DisplayRules.Modern));
    expect(modern.displayClass).toBe('ReportJob');
    expect(modern.displayArgs).toEqual([42, 'gid://app/User/7', { k: 'v' }]);
    const legacy = decoded(decodeJob(v7.queue_active_job_globalid, DisplayRules.Legacy));
    expect(legacy.displayArgs).toEqual([
      42,
      { _aj_globalid: 'gid://app/User/7' },
      { k: 'v', _aj_symbol_keys: ['k'] },
    ]);
  });

  it('shows mailers as Mailer#method with their params and args', () => {
    const mail = decoded(decodeJob(v7.queue_mail_delivery_job, DisplayRules.Modern));
    expect(mail.displayClass).toBe('UserMailer#welcome');
    expect(mail.displayArgs).toEqual([{ user: 'gid://app/User/9' }, ['gid://app/User/9']]);
    const legacyMail = decoded(decodeJob(v7.queue_mail_delivery_job, DisplayRules.Legacy));
    expect(legacyMail.displayArgs).toEqual([{ _aj_globalid: 'gid://app/User/9' }]);
    const delivery = decoded(decodeJob(v7.queue_delivery_job));
    expect(delivery.displayClass).toBe('UserMailer#reset');
    expect(delivery.displayArgs).toEqual([5, 'x']);
  });

  it('reads the strict Base64 backtrace and tags', () => {
    const sut = decoded(decodeJob(v7.retry_strict_backtrace));
    expect(sut.errorBacktrace).toEqual(v7.backtrace_lines);
    expect(sut.tags).toEqual(['t1']);
    expect(sut.retriedAt).toBe(1795394300.5);
  });
});

describe('decodeJob on 8.x shapes', () => {
  it('reads integer-millisecond timestamps as seconds and knows the 8.x wrapper', () => {
    const sut = decoded(decodeJob(v8.queue_active_job));
    expect(sut.displayClass).toBe('ReportJob');
    expect(sut.displayArgs).toEqual(['gid://app/User/7']);
    expect(sut.createdAt).toBe(1795394268.255);
    expect(sut.enqueuedAt).toBe(1795394268.256);
    expect(sut.timestampFormat).toBe(TimestampFormat.Millis);
  });

  it('reads float seconds left by a 7.x in an upgraded 8.x Redis', () => {
    const sut = decoded(decodeJob(v8.queue_upgraded_from_7));
    expect(sut.enqueuedAt).toBe(1795394268.5);
    expect(sut.timestampFormat).toBe(TimestampFormat.Seconds);
  });

  it('decodes errors, bid, encrypted args and display_class overrides', () => {
    const dead = decoded(decodeJob(v8.dead_discarded));
    expect(dead.failedAt).toBe(1795394269);
    expect(dead.retriedAt).toBe(1795394400.123);
    expect(dead.errorBacktrace).toEqual(v8.backtrace_lines);
    expect(decoded(decodeJob(v8.queue_plain)).bid).toBe('b-XyZ');
    expect(decoded(decodeJob(v8.encrypted)).displayArgs).toEqual([1, '[encrypted data]']);
    expect(decoded(decodeJob(v8.display_class_override)).displayClass).toBe('Shown::Name');
  });
});

describe('undecodable payloads', () => {
  it.each(['not json', '[1,2]', '"str"', '{"class":'])('%s is shown as undecodable', (raw) => {
    const sut = decodeJob(raw);
    expect(sut.decodable).toBe(false);
    expect(sut.raw).toBe(raw);
    expect(sut.jid).toBeNull();
  });

  it('tolerates wrong field types', () => {
    const sut = decoded(decodeJob('{"class":5,"args":"x","jid":7,"tags":"t","enqueued_at":"now"}'));
    expect(sut.klass).toBeNull();
    expect(sut.args).toEqual([]);
    expect(sut.jid).toBeNull();
    expect(sut.tags).toEqual([]);
    expect(sut.enqueuedAt).toBeNull();
  });
});

describe('timestamps', () => {
  it('tells seconds from milliseconds by magnitude', () => {
    expect(toEpochSeconds(1795394268.25)).toBe(1795394268.25);
    expect(toEpochSeconds(1795394268250)).toBe(1795394268.25);
    expect(toEpochSeconds('1')).toBeNull();
  });

  it('computes queue latency from the oldest entry, 0 when empty or without enqueued_at', () => {
    const oldest = (key('queue:parked') as string[]).at(-1)!;
    expect(queueLatency(oldest, 1795394299.1)).toBeCloseTo(1795394299.1 - 1795394268.2541738, 6);
    expect(queueLatency(null, 5)).toBe(0);
    expect(queueLatency('{"class":"X"}', 5)).toBe(0);
    expect(queueLatency('garbage', 5)).toBe(0);
  });
});

describe('jid tests', () => {
  it('matches jids exactly, not by substring', () => {
    const raw = (key('queue:parked') as string[])[0]!;
    expect(hasJid(raw, 'cfaff6289ae51fdbed531866')).toBe(true);
    expect(hasJid(raw, 'cfaff6289ae51fdbed53186')).toBe(false);
    expect(hasJid('garbage cfaff6289ae51fdbed531866', 'cfaff6289ae51fdbed531866')).toBe(false);
  });
});

describe('numbers as Ruby holds them', () => {
  const raw =
    '{"class":"X","queue":"q","jid":"j","created_at":1924992000.0,"retry_count":2,' +
    '"args":[18446744073709551617,3.0,1.0e+20,-0.0,0.1,{"n":[1180591620717411303424,1.5]}]}';

  it('keeps big integers exact and Floats in their Ruby form in args and display_args', () => {
    const sut = decoded(decodeJob(raw));
    expect(stringifyExact(sut.args)).toBe(
      '[18446744073709551617,3.0,1.0e+20,-0.0,0.1,{"n":[1180591620717411303424,1.5]}]',
    );
    expect(sut.displayArgsJson).toBe(stringifyExact(sut.args));
    expect(JSON.stringify(sut.args)).not.toContain('18446744073709551617'); // what Node alone gives
  });

  it('reads metadata written as whole Floats as numbers', () => {
    const sut = decoded(decodeJob(raw));
    expect(sut.createdAt).toBe(1924992000);
    expect(sut.retryCount).toBe(2);
    expect(sut.timestampFormat).toBe(TimestampFormat.Seconds);
  });

  it('keeps exact numbers through Active Job unwrapping (7.1+ rules)', () => {
    const aj =
      '{"class":"Sidekiq::ActiveJob::Wrapper","wrapped":"J","queue":"q","jid":"j","args":[{"job_class":"J",' +
      '"arguments":[36893488147419103233,2.0,{"_aj_globalid":"gid://a/U/1"},{"x":1e2,"_aj_symbol_keys":["x"]}]}]}';
    expect(decoded(decodeJob(aj, DisplayRules.Modern)).displayArgsJson).toBe(
      '[36893488147419103233,2.0,"gid://a/U/1",{"x":100.0}]',
    );
  });

  it('reports the list a job was read from as its queue (JobRecord: queue_name || item["queue"])', () => {
    expect(decoded(decodeJob('{"class":"X","args":[]}', DisplayRules.Modern, 'low')).queue).toBe(
      'low',
    );
    expect(decoded(decodeJob('{"class":"X","args":[]}')).queue).toBeNull();
    expect(
      decoded(decodeJob('{"class":"X","queue":"a","args":[]}', DisplayRules.Modern, 'b')).queue,
    ).toBe('b');
  });

  it('writes the Web key with the score as a Ruby Float', () => {
    expect(sortedEntryKey(1924992000, 'abc')).toBe('1924992000.0-abc');
    expect(sortedEntryKey(1795397868.2530127, 'abc')).toBe('1795397868.2530127-abc');
  });
});
