import { stringifyExact } from '../../common/json/ruby-json.js';
import { decodeJob } from './job-record.js';
import {
  buildNewPayload,
  buildRepush,
  formatTimestamp,
  joinPairs,
  rawMember,
  splitTopLevel,
} from './payload-edit.js';
import { TimestampFormat } from './job-record.js';
import {
  apiMutate,
  decoded,
  key,
  members,
  v7,
  v8,
} from '../../../test/support/sidekiq-captures.js';

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
});

describe('timestamps', () => {
  it('writes floats with a dot (6/7) and integer ms (8)', () => {
    expect(formatTimestamp(1795394307000, TimestampFormat.Seconds)).toBe('1795394307.0');
    expect(formatTimestamp(1795394307247.6, TimestampFormat.Seconds)).toBe('1795394307.2476');
    expect(formatTimestamp(1795394307247.6, TimestampFormat.Millis)).toBe('1795394307247');
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

  it('reads the member as Ruby reads the object: the last of a repeated key, nothing from broken text', () => {
    const twice = '{"args":[1],"jid":"a","args":[2.0]}';
    expect(rawMember(twice, 'args')).toBe('[2.0]');
    expect(stringifyExact(decoded(decodeJob(twice)).args)).toBe('[2.0]');
    expect(rawMember('{"args":[1],"jid":', 'args')).toBeNull();
    expect(rawMember('{"args":[1]} trailing', 'args')).toBeNull();
  });
});
