import { readFileSync } from 'node:fs';
import { stringifyExact } from '../common/json/ruby-json.js';
import {
  BulkOrder,
  bulkOrderForVersion,
  sortedEntryKey,
  rawMember,
  buildNewPayload,
  buildRepush,
  decodeJob,
  decodeProcessInfo,
  decodeWork,
  DisplayRules,
  displayRulesForVersion,
  formatTimestamp,
  hasJid,
  joinPairs,
  jobLatency,
  parseIdentity,
  queueLatency,
  splitTopLevel,
  TimestampFormat,
  toEpochSeconds,
  type DecodedJob,
  type JobPayload,
} from './sidekiq-payload.js';

interface DumpEntry {
  key: string;
  type: string;
  value: unknown;
}
const fixture = <T>(path: string): T =>
  JSON.parse(readFileSync(new URL(`../../test/fixtures/${path}`, import.meta.url), 'utf8')) as T;

const dump = fixture<DumpEntry[]>('sidekiq-6.4.1/dump-2-server-running.json');
const apiRead = fixture<Record<string, any>>('sidekiq-6.4.1/api-read.json');
const apiMutate = fixture<Record<string, any>>('sidekiq-6.4.1/api-mutate.json');
const v7 = fixture<Record<string, any>>('sidekiq-7/payloads.json');
const v8 = fixture<Record<string, any>>('sidekiq-8/payloads.json');

const key = (name: string) => dump.find((e) => e.key === name)!.value;
const members = (name: string) =>
  (key(name) as { score: number; member: string }[]).map((e) => e.member);

function decoded(job: JobPayload): DecodedJob {
  if (!job.decodable) {
    throw new Error(`not decodable: ${job.decodeError}`);
  }
  return job;
}

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

  it('decodes process info with weights, version and embedded', () => {
    const info = decodeProcessInfo(v7.process_info)!;
    expect(info.weights).toEqual([{ critical: 2, default: 1 }]);
    expect(info.version).toBe('7.3.10');
    expect(info.concurrency).toBe(5);
    expect(decodeProcessInfo(v7.process_info_embedded)!.embedded).toBe(true);
    expect(decodeProcessInfo('nope')).toBeNull();
  });

  it('decodes a work value whose payload is a JSON string', () => {
    const work = decodeWork(v7.work);
    expect(work.queue).toBe('default');
    expect(work.runAt).toBe(1795394270);
    expect(decoded(decodeJob(work.payload!)).jid).toBe('5a2b3c4d5e6f7a8b9c0d1e2f');
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

  it('decodes an 8.1 process info (no concurrency in info, capsules)', () => {
    const info = decodeProcessInfo(v8.process_hash.info)!;
    expect(info.concurrency).toBeNull();
    expect(info.capsules).toHaveProperty('default');
    expect(displayRulesForVersion(info.version)).toBe(DisplayRules.Modern);
    expect(displayRulesForVersion(null)).toBe(DisplayRules.Legacy);
    expect(displayRulesForVersion('7.0.2')).toBe(DisplayRules.Legacy);
    expect(displayRulesForVersion('7.1.0')).toBe(DisplayRules.Modern);
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

  it('writes floats with a dot (6/7) and integer ms (8)', () => {
    expect(formatTimestamp(1795394307000, TimestampFormat.Seconds)).toBe('1795394307.0');
    expect(formatTimestamp(1795394307247.6, TimestampFormat.Seconds)).toBe('1795394307.2476');
    expect(formatTimestamp(1795394307247.6, TimestampFormat.Millis)).toBe('1795394307247');
  });

  it('computes queue latency from the oldest entry, 0 when empty or without enqueued_at', () => {
    const oldest = (key('queue:parked') as string[]).at(-1)!;
    expect(queueLatency(oldest, 1795394299.1)).toBeCloseTo(1795394299.1 - 1795394268.2541738, 6);
    expect(queueLatency(null, 5)).toBe(0);
    expect(queueLatency('{"class":"X"}', 5)).toBe(0);
    expect(queueLatency('garbage', 5)).toBe(0);
  });
});

describe('byte-safe editing', () => {
  it('splits and rejoins every captured payload byte for byte', () => {
    const all = [
      ...(key('queue:parked') as string[]),
      ...members('retry'),
      ...members('dead'),
      ...members('schedule'),
      v7.retry_strict_backtrace,
      v8.queue_active_job,
    ];
    for (const raw of all) {
      expect(joinPairs(splitTopLevel(raw)!)).toBe(raw);
    }
    expect(splitTopLevel('{"a":1,"b":[1,{"c":"}"}],"d":"x\\"y"}')!.map((p) => p.valueText)).toEqual(
      ['1', '[1,{"c":"}"}]', '"x\\"y"'],
    );
    expect(splitTopLevel('{"a":1')).toBeNull();
    expect(splitTopLevel('[1]')).toBeNull();
    expect(splitTopLevel('{} x')).toBeNull();
  });

  it('re-pushes a retry entry exactly as SortedEntry#retry did on 6.4.1', () => {
    const before: string = apiMutate.retry_before.value;
    const after: string = apiMutate.retry_after_in_queue;
    const enqueuedAt = decoded(decodeJob(after)).enqueuedAt!;
    const sut = buildRepush(before, { decrementRetryCount: true, nowMs: enqueuedAt * 1000 })!;
    expect(sut.queue).toBe('default');
    expect(sut.payload.replace(/"enqueued_at":[^,]+/, '')).toBe(
      after.replace(/"enqueued_at":[^,]+/, ''),
    );
  });

  it('re-pushes a dead entry (retry) and a schedule entry (add to queue, enqueued_at appended)', () => {
    const dead = buildRepush(apiMutate.dead_before.value, { decrementRetryCount: true, nowMs: 1 })!;
    const strip = (s: string) => s.replace(/,?"enqueued_at":[^,}]+/, '');
    expect(strip(dead.payload)).toBe(strip(apiMutate.dead_after_in_queue));
    const scheduled = (key('schedule') as { member: string }[]).find((e) =>
      e.member.includes('7a4593842617eb03171fb571'),
    )!.member;
    const added = buildRepush(scheduled, {
      decrementRetryCount: false,
      nowMs: 1795394307.2476761 * 1000,
    })!;
    expect(added.queue).toBe('parked');
    expect(strip(added.payload)).toBe(strip(apiMutate.add_to_queue.in_queue));
    expect(added.payload.endsWith(',"enqueued_at":1795394307.2476761}')).toBe(true);
  });

  it('moves retry and queue to the front, adds retry: true, keeps nested values verbatim, writes ms for 8.x', () => {
    const sut = buildRepush('{"class":"X","args":[1.0,9007199254740993],"queue":"q","jid":"j"}', {
      decrementRetryCount: true,
      nowMs: 1000.5,
    })!;
    expect(sut.payload).toBe(
      '{"retry":true,"queue":"q","class":"X","args":[1.0,9007199254740993],"jid":"j","created_at":1.0005,"enqueued_at":1.0005}',
    );
    const v8job = buildRepush(v8.queue_plain, {
      decrementRetryCount: false,
      nowMs: 1795394400123.9,
    })!;
    expect(v8job.payload).toContain('"enqueued_at":1795394400123,');
    expect(buildRepush('nope', { decrementRetryCount: false, nowMs: 1 })).toBeNull();
    expect(buildRepush('{"args":[]}', { decrementRetryCount: false, nowMs: 1 })).toBeNull();
  });

  it('adds jid and created_at when missing, null or false, as normalize_item (||=) does', () => {
    const sut = buildRepush('{"class":"X","args":[],"queue":"q","created_at":null}', {
      decrementRetryCount: false,
      nowMs: 1795394307000,
      newJid: () => 'ab'.repeat(12),
    })!;
    expect(sut.payload).toBe(
      `{"retry":true,"queue":"q","class":"X","args":[],"created_at":1795394307.0,"jid":"${'ab'.repeat(12)}","enqueued_at":1795394307.0}`,
    );
    const kept = buildRepush('{"class":"X","args":[],"jid":"j","created_at":1.5}', {
      decrementRetryCount: false,
      nowMs: 2000,
    })!;
    expect(kept.payload).toBe(
      '{"retry":true,"queue":"default","class":"X","args":[],"jid":"j","created_at":1.5,"enqueued_at":2.0}',
    );
    expect(
      decoded(
        decodeJob(
          buildRepush('{"class":"X","args":[]}', { decrementRetryCount: false, nowMs: 1 })!.payload,
        ),
      ).jid,
    ).toMatch(/^[0-9a-f]{24}$/);
  });

  it('builds a new payload in Sidekiq key order with the args text untouched', () => {
    const sut = buildNewPayload({
      jobClass: 'HardJob',
      queue: 'default',
      argsJson: '[1.0,{"b":1,"a":2}]',
      jid: '0123456789abcdef01234567',
      nowMs: 1795394307000,
    });
    expect(sut).toBe(
      '{"retry":true,"queue":"default","class":"HardJob","args":[1.0,{"b":1,"a":2}],"jid":"0123456789abcdef01234567","created_at":1795394307.0,"enqueued_at":1795394307.0}',
    );
    expect(() =>
      buildNewPayload({ jobClass: 'X', queue: 'q', argsJson: '{}', jid: 'j', nowMs: 1 }),
    ).toThrow();
  });

  it('writes restarted_from right after jid, JSON-escaped, when given', () => {
    const base = {
      jobClass: 'HardJob',
      queue: 'default',
      argsJson: '[1.0]',
      jid: '0123456789abcdef01234567',
      nowMs: 1795394307000,
      timestampFormat: TimestampFormat.Millis,
    };
    expect(buildNewPayload({ ...base, restartedFrom: 'fedcba9876543210fedcba98' })).toBe(
      '{"retry":true,"queue":"default","class":"HardJob","args":[1.0],"jid":"0123456789abcdef01234567","restarted_from":"fedcba9876543210fedcba98","created_at":1795394307000,"enqueued_at":1795394307000}',
    );
    const odd = buildNewPayload({ ...base, restartedFrom: 'a"b\\c' });
    expect(odd).toContain('"restarted_from":"a\\"b\\\\c","created_at"');
    expect((JSON.parse(odd) as { restarted_from: string }).restarted_from).toBe('a"b\\c');
    expect(buildNewPayload(base)).not.toContain('restarted_from');
  });

  it('matches jids exactly, not by substring', () => {
    const raw = (key('queue:parked') as string[])[0]!;
    expect(hasJid(raw, 'cfaff6289ae51fdbed531866')).toBe(true);
    expect(hasJid(raw, 'cfaff6289ae51fdbed53186')).toBe(false);
    expect(hasJid('garbage cfaff6289ae51fdbed531866', 'cfaff6289ae51fdbed531866')).toBe(false);
  });
});

describe('identities', () => {
  it('parses host:pid:nonce from the right', () => {
    expect(parseIdentity('vm:22492:99db45528ad3')).toEqual({
      hostname: 'vm',
      pid: 22492,
      nonce: '99db45528ad3',
    });
    expect(parseIdentity('a:b:1:ff')).toEqual({ hostname: 'a:b', pid: 1, nonce: 'ff' });
    expect(parseIdentity('nocolon')).toBeNull();
  });
});

describe('rawMember', () => {
  const raw =
    '{"retry":true,"queue":"default","class":"HardJob","args":[1, "two",{"three":3.0,"s":"]}\\"x"}],"jid":"abc","n":-1.50e3}';

  it('returns the text of a member exactly as written', () => {
    expect(rawMember(raw, 'args')).toBe('[1, "two",{"three":3.0,"s":"]}\\"x"}]');
    expect(rawMember(raw, 'jid')).toBe('"abc"');
    expect(rawMember(raw, 'n')).toBe('-1.50e3');
    expect(rawMember(raw, 'retry')).toBe('true');
  });

  it('is null for a missing member or text that is not an object', () => {
    expect(rawMember(raw, 'missing')).toBeNull();
    expect(rawMember('[1,2]', 'args')).toBeNull();
    expect(rawMember('{"args":', 'x')).toBeNull();
    expect(rawMember(' { "args" : [ ] } ', 'args')).toBe('[ ]');
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

describe('behaviour by Sidekiq version', () => {
  it.each([
    [null, DisplayRules.Legacy, BulkOrder.HighestFirst],
    ['6.4.1', DisplayRules.Legacy, BulkOrder.HighestFirst],
    ['7.0.9', DisplayRules.Legacy, BulkOrder.HighestFirst],
    ['7.1.0', DisplayRules.Modern, BulkOrder.HighestFirst],
    ['7.3.4', DisplayRules.Modern, BulkOrder.HighestFirst],
    ['7.3.5', DisplayRules.Modern, BulkOrder.LowestFirst],
    ['7.4', DisplayRules.Modern, BulkOrder.LowestFirst],
    ['8.1.7', DisplayRules.Modern, BulkOrder.LowestFirst],
    ['10.0.0', DisplayRules.Modern, BulkOrder.LowestFirst],
  ])('%s: %s display rules, %s', (version, rules, order) => {
    expect(displayRulesForVersion(version)).toBe(rules);
    expect(bulkOrderForVersion(version)).toBe(order);
  });
});
