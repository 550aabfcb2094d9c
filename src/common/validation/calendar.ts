/**
 * Epoch milliseconds (UTC) of the calendar date and time written as these fields, or null when one
 * is out of range: Date.UTC rolls 02-30 over to March and 24:00 to the next day, so the round trip
 * proves every field was real. Shared by the query/body date reader and the ingest timestamps.
 */
export function calendarUtc(
  year: string,
  month: string,
  day: string,
  hour = '0',
  minute = '0',
  second = '0',
): number | null {
  const ms = Date.UTC(Number(year), Number(month) - 1, Number(day), 0, 0, 0);
  const date = new Date(ms);
  if (
    date.getUTCFullYear() !== Number(year) ||
    date.getUTCMonth() !== Number(month) - 1 ||
    date.getUTCDate() !== Number(day) ||
    Number(hour) > 23 ||
    Number(minute) > 59 ||
    Number(second) > 59
  ) {
    return null;
  }
  return ms + (Number(hour) * 3600 + Number(minute) * 60 + Number(second)) * 1000;
}
