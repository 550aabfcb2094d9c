import { decodeJob, DisplayRules } from './job-record.js';
import { decodeProcessInfo, decodeWork, parseIdentity } from './process-info.js';
import { displayRulesForVersion } from './sidekiq-version.js';
import { decoded, v7, v8 } from '../../../test/support/sidekiq-captures.js';

describe('process info and work on 7.x shapes', () => {
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

describe('process info on 8.x shapes', () => {
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
