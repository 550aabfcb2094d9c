/** 850 ms, 2.1 s, 45 s, 12m 05s, 3h 12m, 2d 04h: a span as an operator reads it in a sentence. */
export function span(ms: number): string {
  const abs = Math.max(0, ms);
  if (abs < 1000) {
    return `${Math.round(abs)} ms`;
  }
  const s = abs / 1000;
  if (s < 10) {
    return `${s.toFixed(1)} s`;
  }
  if (s < 60) {
    return `${Math.floor(s)} s`;
  }
  const pad = (n: number) => String(Math.floor(n)).padStart(2, '0');
  if (s < 3600) {
    return `${Math.floor(s / 60)}m ${pad(s % 60)}s`;
  }
  if (s < 86_400) {
    return `${Math.floor(s / 3600)}h ${pad((s % 3600) / 60)}m`;
  }
  return `${Math.floor(s / 86_400)}d ${pad((s % 86_400) / 3600)}h`;
}

/** 4,210 */
export function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** host-a:4242, or "an unknown process" */
export function worker(hostname: string | null, pid: number | null): string {
  if (hostname === null && pid === null) {
    return 'an unknown process';
  }
  return `${hostname ?? '?'}:${pid ?? '?'}`;
}

/** 2026-12-04T21:03:07Z: to the second, for sentences */
export function at(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}
