import { FailureLimiter } from './failure-limiter.js';

describe('FailureLimiter', () => {
  // 5 failures at once, then one every 2 s
  const make = (addresses = 100) => new FailureLimiter({ limit: 5, windowMs: 10_000, addresses });

  it('allows `limit` failures, then names the wait until the next one', () => {
    const sut = make();
    const t0 = 1_000_000;
    for (let i = 0; i < 5; i++) {
      expect(sut.take('10.0.0.1', t0)).toBe(0);
    }
    expect(sut.take('10.0.0.1', t0)).toBe(2000);
    expect(sut.waitMs('10.0.0.1', t0)).toBe(2000);
    expect(sut.take('10.0.0.1', t0 + 500)).toBe(1500);
    // refused attempts do not deepen the debt
    expect(sut.take('10.0.0.1', t0 + 1999)).toBe(1);
    expect(sut.take('10.0.0.1', t0 + 2000)).toBe(0);
    expect(sut.take('10.0.0.1', t0 + 2000)).toBe(2000);
    // other addresses are not affected
    expect(sut.waitMs('10.0.0.2', t0)).toBe(0);
    expect(sut.take('10.0.0.2', t0)).toBe(0);
  });

  it('refills to the limit and no further', () => {
    const sut = make();
    for (let i = 0; i < 5; i++) {
      sut.take('a', 0);
    }
    expect(sut.waitMs('a', 0)).toBeGreaterThan(0);
    // a day later the bucket is full again: exactly 5 more, not thousands
    const later = 86_400_000;
    let allowed = 0;
    while (sut.take('a', later) === 0) {
      allowed++;
    }
    expect(allowed).toBe(5);
  });

  it('gives back an attempt that was no failure, up to the limit', () => {
    const sut = make();
    for (let i = 0; i < 5; i++) {
      sut.take('a', 0);
    }
    expect(sut.take('a', 0)).toBeGreaterThan(0);
    sut.refund('a', 0);
    expect(sut.take('a', 0)).toBe(0);
    const fresh = make();
    fresh.refund('b', 0);
    let allowed = 0;
    while (fresh.take('b', 0) === 0) {
      allowed++;
    }
    expect(allowed).toBe(5);
  });

  it('remembers at most `addresses` addresses, forgetting the least recently seen', () => {
    const sut = make(3);
    for (let i = 0; i < 5; i++) {
      sut.take('old', 0);
    }
    expect(sut.waitMs('old', 0)).toBeGreaterThan(0);
    for (let i = 0; i < 10_000; i++) {
      sut.take(`flood-${i}`, 0);
    }
    expect(sut.size).toBe(3);
    // forgotten: it starts again with a full allowance, as a new address would
    expect(sut.waitMs('old', 0)).toBe(0);
  });

  it('refills nothing when the clock steps back', () => {
    const sut = make();
    for (let i = 0; i < 5; i++) {
      sut.take('a', 10_000);
    }
    expect(sut.take('a', 5_000)).toBe(2000);
  });
});
