export interface EventuallyOptions {
  /** give up after this long (a deadline for the wait, not an assertion on speed) */
  timeoutMs?: number;
  /** pause between tries */
  intervalMs?: number;
}

type Found<T> = Exclude<T, undefined | null | false>;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Calls `probe` until it gives a value (anything but undefined, null or false) and returns that
 * value. A probe that throws (a failed expect, a refused connection) is tried again; when the time
 * is up the error names `what` and carries the probe's last error or value.
 */
export async function eventually<T>(
  what: string,
  probe: () => T | Promise<T>,
  { timeoutMs = 30_000, intervalMs = 100 }: EventuallyOptions = {},
): Promise<Found<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== null && value !== false) {
        return value as Found<T>;
      }
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() >= deadline) {
      const seen = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`gave up waiting for ${what} after ${timeoutMs} ms; last: ${seen}`, {
        cause: last,
      });
    }
    await sleep(intervalMs);
  }
}
