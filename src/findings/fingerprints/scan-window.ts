/** A reading of job_events' id sequence: the last id handed out, at that time (database clock, ms). */
export interface Reading {
  at: number;
  id: string;
}

export interface ScanWindow {
  /** events with ids up to this are read now */
  upTo: string;
  /** readings still ahead */
  pending: Reading[];
}

/** Readings kept while transactions hold them back (the oldest and the newest ones). */
export const MAX_READINGS = 20;

/**
 * How far the scan of job_events may go. Ids are handed out before their transactions commit, in
 * any order, so an id is read only once no transaction that could hold a smaller one is still
 * running: a reading (last id handed out at time `at`) is settled when every other transaction
 * running now started after `at`, or, so that an idle-in-transaction session cannot stop the scan,
 * once it is `fallbackMs` old. The scan goes to the newest settled reading, at most `maxIds`
 * ids at a time.
 */
export function nextScanWindow(
  lastId: string,
  pending: Reading[],
  reading: Reading,
  oldestRunningStart: number | null,
  fallbackMs: number,
  maxIds: number,
): ScanWindow {
  const last = BigInt(lastId);
  let readings = [...pending];
  const newest = readings.length > 0 ? BigInt(readings[readings.length - 1].id) : last;
  if (BigInt(reading.id) > newest && BigInt(reading.id) > last) {
    readings.push(reading);
  }
  if (readings.length > MAX_READINGS) {
    readings = [readings[0], ...readings.slice(-(MAX_READINGS - 1))];
  }
  let target = last;
  for (const r of readings) {
    const settled =
      oldestRunningStart === null || r.at < oldestRunningStart || r.at <= reading.at - fallbackMs;
    if (settled && BigInt(r.id) > target) {
      target = BigInt(r.id);
    }
  }
  const upTo = target - last > BigInt(maxIds) ? last + BigInt(maxIds) : target;
  return { upTo: String(upTo), pending: readings.filter((r) => BigInt(r.id) > upTo) };
}
