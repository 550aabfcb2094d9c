import { JobEventType } from '../job-lifecycle.enum.js';
import type { IngestEvent } from './columns.js';
import { parseEvent } from './event-parser.js';
import { mergeRuns, startOf } from './event-store.js';
import { ingestToFold } from './rows.js';
import { isoToUs } from './timestamps.js';

const now = new Date('2026-12-04T10:00:00Z');

/** The events the parser makes of one compact run row: [started, end]. */
function runRow(fields: Record<string, unknown>): [IngestEvent, IngestEvent] {
  const parsed = parseEvent(
    {
      job_id: 'a1b2c3d4e5f6a1b2c3d4e5f6',
      occurred_at_us: 1_764_842_402_001_500,
      started_at_us: 1_764_842_400_000_000,
      hostname: 'w1',
      pid: 7,
      tid: 't9',
      enqueued_at_us: 1_764_842_399_000_000,
      ...fields,
    },
    { path: '', form: false, now },
  );
  if (!('event' in parsed) || !parsed.event || !parsed.started) {
    throw new Error('not a run row');
  }
  return [parsed.started, parsed.event];
}

describe('mergeRuns', () => {
  it('stores a compact row as one event that carries its start, and reads back the same two', () => {
    const [started, end] = runRow({ type: 'succeeded', duration_us: 1500 });
    const stored = mergeRuns([started, end]);
    expect(stored).toEqual([end]);
    expect(end.startedAt).toBe(started.occurredAt);
    const endFold = ingestToFold(end);
    expect(startOf(endFold, isoToUs(end.startedAt!))).toEqual(ingestToFold(started));
  });

  it('merges a failed run with its error, and leaves the start of another attempt alone', () => {
    const [started, end] = runRow({ type: 'failed', error_class: 'E', retry_count: 0 });
    const [otherStart] = runRow({ type: 'failed', error_class: 'E', retry_count: 1 });
    expect(mergeRuns([otherStart, started, end])).toEqual([otherStart, end]);
    expect(startOf(ingestToFold(end), isoToUs(end.startedAt!))).toEqual(ingestToFold(started));
  });

  it('keeps a start apart when it differs from the end in what a start stores', () => {
    const [started, end] = runRow({ type: 'succeeded' });
    const elsewhere = { ...started, hostname: 'w2' };
    expect(mergeRuns([elsewhere, end])).toEqual([elsewhere, end]);
    expect(end.startedAt).toBeNull();
    const serverTimed = { ...started, clientTime: false };
    expect(mergeRuns([serverTimed, end])).toHaveLength(2);
    expect(started.type).toBe(JobEventType.Started);
  });
});
