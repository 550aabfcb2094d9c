import { type FieldError } from './field-reader.js';
import { KNOWN_FIELDS } from './event-parser.js';

/** The batch route's body: `events` (objects) and/or the compact `columns` + `rows` (+ `defaults`). */
export interface BatchItems {
  /** each event object with the path its errors are named under */
  items: { raw: unknown; path: string }[];
  errors: FieldError[];
}

const BATCH_KEYS = new Set(['events', 'columns', 'rows', 'defaults']);

/**
 * Reads a batch body. Compact form: `columns` names event fields once, each row is an array of
 * values in that order (null = absent), `defaults` holds fields shared by every row (hostname,
 * pid, instance); a row's own value wins. Both forms may be in one body.
 */
export function batchItems(raw: unknown): BatchItems {
  const items: BatchItems['items'] = [];
  const errors: FieldError[] = [];
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { items, errors: [{ field: 'events', message: 'must be an array of events' }] };
  }
  const body = raw as Record<string, unknown>;
  for (const key of Object.keys(body)) {
    if (!BATCH_KEYS.has(key)) {
      errors.push({ field: key, message: 'is not a known field' });
    }
  }
  const { events, columns, rows, defaults } = body;
  if (events === undefined && rows === undefined) {
    errors.push({
      field: 'events',
      message: 'must be an array of events (or give columns and rows)',
    });
  }
  if (events !== undefined) {
    if (Array.isArray(events)) {
      events.forEach((item, i) => items.push({ raw: item, path: `events[${i}].` }));
    } else {
      errors.push({ field: 'events', message: 'must be an array of events' });
    }
  }
  if (rows === undefined) {
    for (const key of ['columns', 'defaults'] as const) {
      if (body[key] !== undefined) {
        errors.push({ field: key, message: 'is only allowed with rows' });
      }
    }
    return { items, errors };
  }
  const names = Array.isArray(columns) ? columns : [];
  if (
    !Array.isArray(columns) ||
    columns.length === 0 ||
    !columns.every((c) => typeof c === 'string')
  ) {
    errors.push({ field: 'columns', message: 'must be a non-empty array of event field names' });
  } else {
    columns.forEach((name: string, k) => {
      if (!KNOWN_FIELDS.has(name)) {
        errors.push({ field: `columns[${k}]`, message: 'is not a known field' });
      } else if (columns.indexOf(name) !== k) {
        errors.push({ field: `columns[${k}]`, message: 'is given twice' });
      }
    });
  }
  let shared: Record<string, unknown> = {};
  if (defaults !== undefined) {
    if (typeof defaults !== 'object' || defaults === null || Array.isArray(defaults)) {
      errors.push({ field: 'defaults', message: 'must be an object of event fields' });
    } else {
      shared = defaults as Record<string, unknown>;
      for (const key of Object.keys(shared)) {
        if (!KNOWN_FIELDS.has(key)) {
          errors.push({ field: `defaults.${key}`, message: 'is not a known field' });
        }
      }
    }
  }
  if (!Array.isArray(rows)) {
    errors.push({ field: 'rows', message: 'must be an array of arrays' });
    return { items, errors };
  }
  if (errors.length > 0) {
    return { items, errors };
  }
  rows.forEach((row: unknown, i) => {
    if (!Array.isArray(row) || row.length !== names.length) {
      errors.push({
        field: `rows[${i}]`,
        message: `must be an array of ${names.length} values (one per column)`,
      });
      return;
    }
    const event: Record<string, unknown> = { ...shared };
    for (let k = 0; k < names.length; k++) {
      const value: unknown = row[k];
      if (value !== null && value !== undefined) {
        event[names[k] as string] = value;
      }
    }
    items.push({ raw: event, path: `rows[${i}].` });
  });
  return { items, errors };
}
