import { inspect } from 'node:util';

/** 950 ms, 12.3 s, 4 min 05 s, 2 h 07 min, 3 d 04 h */
export function humanDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) {
    return '—';
  }
  const sign = ms < 0 ? '-' : '';
  const abs = Math.abs(ms);
  if (abs < 1000) {
    return `${sign}${Math.round(abs)} ms`;
  }
  const s = abs / 1000;
  if (s < 60) {
    return `${sign}${s.toFixed(1)} s`;
  }
  const pad = (n: number) => String(Math.floor(n)).padStart(2, '0');
  if (s < 3600) {
    return `${sign}${Math.floor(s / 60)} min ${pad(s % 60)} s`;
  }
  if (s < 86_400) {
    return `${sign}${Math.floor(s / 3600)} h ${pad((s % 3600) / 60)} min`;
  }
  return `${sign}${Math.floor(s / 86_400)} d ${pad((s % 86_400) / 3600)} h`;
}

const MAX_CELL = 48;

function cell(value: unknown): string {
  const text =
    value === null || value === undefined
      ? '—'
      : value instanceof Date
        ? value.toISOString()
        : typeof value === 'string'
          ? value
          : JSON.stringify(value);
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > MAX_CELL ? `${flat.slice(0, MAX_CELL - 1)}…` : flat;
}

/**
 * Rows printed by the REPL as an aligned text table: an optional title above (what the rows are
 * about), a footer below (paging hint, counts).
 */
export class Table<Row extends object> {
  constructor(
    readonly rows: Row[],
    readonly columns: (keyof Row & string)[],
    readonly footer: string,
    readonly title = '',
  ) {}

  toString(): string {
    const title = this.title ? [this.title] : [];
    if (this.rows.length === 0) {
      return [...title, `(no rows) ${this.footer}`.trim()].join('\n');
    }
    const header = this.columns;
    const body = this.rows.map((row) => header.map((c) => cell(row[c])));
    const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
    const line = (cells: string[]) =>
      cells
        .map((c, i) => c.padEnd(widths[i]))
        .join(' │ ')
        .trimEnd();
    return [
      ...title,
      line(header),
      widths.map((w) => '─'.repeat(w)).join('─┼─'),
      ...body.map(line),
      ...(this.footer ? [this.footer] : []),
    ].join('\n');
  }

  [inspect.custom](): string {
    return this.toString();
  }
}
