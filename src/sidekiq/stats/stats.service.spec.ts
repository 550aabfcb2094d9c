import { scanPattern } from '../sorted-sets/sorted-sets.service.js';
import { historyDates } from './stats.service.js';

describe('historyDates (Stats::History day keys)', () => {
  it('counts UTC days backwards from the start date, across month and year ends', () => {
    expect(historyDates('2026-03-01', 3)).toEqual(['2026-03-01', '2026-02-28', '2026-02-27']);
    expect(historyDates('2025-01-01', 2)).toEqual(['2025-01-01', '2024-12-31']);
    expect(historyDates('2024-03-01', 2)).toEqual(['2024-03-01', '2024-02-29']);
    expect(historyDates('2026-11-23', 1825)).toHaveLength(1825);
  });
});

describe('scanPattern (JobSet#scan)', () => {
  it('wraps a substring in * unless it is already a pattern', () => {
    expect(scanPattern('needle')).toBe('*needle*');
    expect(scanPattern('Fail*Job')).toBe('Fail*Job');
  });
});
