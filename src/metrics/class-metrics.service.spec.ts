import { HISTOGRAM_BOUNDS_MS, shapeClassWindow, windowBounds } from './class-metrics.service.js';

describe('windowBounds', () => {
  it('ends the window at the end of the current bucket, its length before', () => {
    const { from, to } = windowBounds('1h', new Date('2026-12-04T10:17:30.250Z'));
    expect(to.toISOString()).toBe('2026-12-04T10:18:00.000Z');
    expect(from.toISOString()).toBe('2026-12-04T09:18:00.000Z');
  });

  it('keeps a moment on a bucket boundary inside the window', () => {
    const { to } = windowBounds('24h', new Date('2026-12-04T10:30:00.000Z'));
    expect(to.toISOString()).toBe('2026-12-04T11:00:00.000Z');
  });
});

describe('shapeClassWindow', () => {
  const row = {
    processed: 5,
    failed: 1,
    runMs: { p50: null, p95: null, p99: null, max: null },
    waitMs: { p50: null, p95: null, p99: null, max: null },
    buckets: [
      { bucket: 0, processed: 2, failed: 0 },
      { bucket: 47, processed: 3, failed: 1 },
    ],
    histogram: [
      { bucket: 0, count: 1 },
      { bucket: HISTOGRAM_BOUNDS_MS.length, count: 4 },
    ],
  };

  it('fills every bucket of the window and every histogram bucket', () => {
    const from = new Date('2026-12-03T11:00:00.000Z');
    const sut = shapeClassWindow(row, from, '8h');
    expect(sut.series).toHaveLength(48);
    expect(sut.series[0]).toEqual({ at: from.toISOString(), processed: 2, failed: 0 });
    expect(sut.series[1]).toEqual({ at: '2026-12-03T11:10:00.000Z', processed: 0, failed: 0 });
    expect(sut.series[47]).toEqual({ at: '2026-12-03T18:50:00.000Z', processed: 3, failed: 1 });
    expect(sut.histogram).toHaveLength(26);
    expect(sut.histogram[0]).toEqual({ up_to_seconds: 0.02, count: 1 });
    expect(sut.histogram[1]).toEqual({ up_to_seconds: 0.03, count: 0 });
    expect(sut.histogram[25]).toEqual({ up_to_seconds: null, count: 4 });
  });
});
