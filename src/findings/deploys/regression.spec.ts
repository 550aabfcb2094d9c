import { compareWindows, type RegressionRule, type WindowStats } from './regression.js';

const rule: RegressionRule = {
  failureRatePoints: 5,
  minFailures: 5,
  p95IncreasePercent: 50,
  minRuns: 20,
};
const w = (count: number, failed: number, p95: number | null = 1): WindowStats => ({
  count,
  failed,
  p95,
});

describe('compareWindows', () => {
  it('flags a failure rate up by more than the points with enough failures, and says so', () => {
    const result = compareWindows(w(100, 1), w(100, 10), rule);
    expect(result.failureRateChange).toBe(9);
    expect(result.reasons).toEqual([
      'failure rate 1% → 10% (10 of 100 failed; threshold +5 points)',
    ]);
  });

  it('does not flag too few failures, however high the rate', () => {
    expect(compareWindows(w(100, 0), w(4, 4), rule).reasons).toEqual([]);
    expect(compareWindows(w(100, 0), w(5, 5), rule).reasons).toHaveLength(1);
  });

  it('does not flag a rise of exactly the threshold, nor a fall', () => {
    expect(compareWindows(w(100, 0), w(100, 5), rule).reasons).toEqual([]);
    expect(compareWindows(w(100, 50), w(100, 10), rule).reasons).toEqual([]);
  });

  it('counts a class new after the deploy from a 0% rate', () => {
    expect(compareWindows(w(0, 0, null), w(10, 6), rule).failureRateChange).toBe(60);
    expect(compareWindows(w(0, 0, null), w(10, 6), rule).reasons).toHaveLength(1);
  });

  it('flags p95 up by more than the percentage with enough runs on both sides', () => {
    const result = compareWindows(w(40, 0, 0.2), w(40, 0, 0.5), rule);
    expect(result.p95Change).toBe(150);
    expect(result.reasons).toEqual(['run-time p95 200 ms → 500 ms (+150%; threshold +50%)']);
    expect(compareWindows(w(19, 0, 0.2), w(40, 0, 0.5), rule).reasons).toEqual([]);
    expect(compareWindows(w(40, 0, 2), w(40, 0, 3), rule).reasons).toEqual([]);
  });

  it('gives both reasons when both regressed, and no change without jobs after', () => {
    expect(compareWindows(w(40, 0, 2), w(40, 10, 5), rule).reasons).toHaveLength(2);
    const none = compareWindows(w(40, 0, 2), w(0, 0, null), rule);
    expect(none).toMatchObject({ failureRateChange: null, p95Change: null, reasons: [] });
  });
});
