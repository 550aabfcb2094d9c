// job_events' partitions: one per UTC day the events were received on, named job_events_pYYYYMMDD,
// plus job_events_default for a day that has none yet (an event is never refused for want of a
// partition; the maintainer moves such rows into the day's partition when it makes it).

/** `YYYY-MM-DD` of `date` in UTC. */
export function utcDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** The day after `day` (`YYYY-MM-DD`). */
export function nextDay(day: string): string {
  return utcDay(new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000));
}

/** The partition holding the events received on `day`. */
export function partitionName(day: string): string {
  return `job_events_p${day.replaceAll('-', '')}`;
}

/** The day a partition name stands for, or null for another table (the default partition). */
export function dayOfPartition(name: string): string | null {
  const m = /^job_events_p(\d{4})(\d{2})(\d{2})$/.exec(name);
  return m ? `${m[1]}-${m[2]}-${m[3]}` : null;
}

/** The bounds of `day`'s partition, as timestamptz literals. */
export function partitionBounds(day: string): { from: string; to: string } {
  return { from: `${day} 00:00:00+00`, to: `${nextDay(day)} 00:00:00+00` };
}

/** Creates `day`'s partition (nothing when it exists). The default partition must hold no row of
 * that day: EventPartitions.ensure moves them first. */
export function partitionSql(day: string): string {
  const { from, to } = partitionBounds(day);
  return `create table if not exists "${partitionName(day)}" partition of "job_events"
    for values from ('${from}') to ('${to}')`;
}

/** `days` and the days from `today` to `ahead` days after it, each once, in order. */
export function partitionDays(days: readonly string[], today: Date, ahead = 2): string[] {
  const all = new Set(days);
  let day = utcDay(today);
  for (let i = 0; i <= ahead; i++) {
    all.add(day);
    day = nextDay(day);
  }
  return [...all].sort();
}
