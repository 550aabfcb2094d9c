import { MAX_READINGS, nextScanWindow, type Reading } from './scan-window.js';

const FALLBACK = 120_000;
const r = (at: number, id: number): Reading => ({ at, id: String(id) });

describe('nextScanWindow', () => {
  it('reads up to the new reading when no other transaction is running', () => {
    expect(nextScanWindow('10', [], r(1000, 50), null, FALLBACK, 1000)).toEqual({
      upTo: '50',
      pending: [],
    });
  });

  it('waits for a transaction that started before the reading, then goes on', () => {
    const first = nextScanWindow('10', [], r(1000, 50), 900, FALLBACK, 1000);
    expect(first).toEqual({ upTo: '10', pending: [r(1000, 50)] });
    // the old transaction ended; a newer one (started at 1500) holds only ids above 50
    const second = nextScanWindow('10', first.pending, r(2000, 80), 1500, FALLBACK, 1000);
    expect(second).toEqual({ upTo: '50', pending: [r(2000, 80)] });
  });

  it('goes on after the fallback even while a transaction stays open', () => {
    const pending = [r(1000, 50)];
    expect(nextScanWindow('10', pending, r(1000 + FALLBACK, 90), 0, FALLBACK, 1000).upTo).toBe(
      '50',
    );
  });

  it('reads a backlog at most maxIds at a time, keeping the reading until it is reached', () => {
    const first = nextScanWindow('0', [], r(1000, 2500), null, FALLBACK, 1000);
    expect(first).toEqual({ upTo: '1000', pending: [r(1000, 2500)] });
    const second = nextScanWindow('1000', first.pending, r(2000, 2500), 1500, FALLBACK, 1000);
    expect(second).toEqual({ upTo: '2000', pending: [r(1000, 2500)] });
  });

  it('ignores a reading that adds nothing, and keeps a bounded list of readings', () => {
    expect(nextScanWindow('50', [], r(1000, 50), 0, FALLBACK, 1000).pending).toEqual([]);
    let pending: Reading[] = [];
    for (let i = 1; i <= MAX_READINGS + 5; i++) {
      pending = nextScanWindow('0', pending, r(i, i * 10), 0, FALLBACK, 1000).pending;
    }
    expect(pending).toHaveLength(MAX_READINGS);
    expect(pending[0]).toEqual(r(1, 10));
    expect(pending.at(-1)).toEqual(r(MAX_READINGS + 5, (MAX_READINGS + 5) * 10));
  });
});
