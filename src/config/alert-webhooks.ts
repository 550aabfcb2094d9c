import { type DetectorName, FINDING_DETECTORS } from './finding-detectors.js';

export type WebhookFormat = 'json' | 'slack';

export interface AlertReceiver {
  readonly name: string;
  readonly url: string;
  readonly format: WebhookFormat;
  /** null: every detector */
  readonly detectors: readonly DetectorName[] | null;
  readonly repeatIntervalMs: number;
  /** sent with every request (e.g. Authorization) */
  readonly headers: Readonly<Record<string, string>>;
}

export const DEFAULT_REPEAT_INTERVAL_S = 14_400;
const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$/;
const KEYS = new Set(['name', 'url', 'format', 'detectors', 'repeat_interval_s', 'headers']);
const MAX_RECEIVERS = 50;

/**
 * Reads ALERT_WEBHOOKS (a JSON array of receivers). Problems name the entry and the field, never a
 * value: a URL or a header may carry a secret.
 */
export function parseAlertWebhooks(raw: string | undefined): {
  receivers: AlertReceiver[];
  problems: string[];
} {
  if (raw === undefined || raw.trim() === '') {
    return { receivers: [], problems: [] };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return { receivers: [], problems: ['ALERT_WEBHOOKS must be a JSON array'] };
  }
  if (!Array.isArray(parsed)) {
    return { receivers: [], problems: ['ALERT_WEBHOOKS must be a JSON array'] };
  }
  if (parsed.length > MAX_RECEIVERS) {
    return { receivers: [], problems: [`ALERT_WEBHOOKS holds at most ${MAX_RECEIVERS} receivers`] };
  }
  const problems: string[] = [];
  const receivers: AlertReceiver[] = [];
  const names = new Set<string>();
  parsed.forEach((entry: unknown, i) => {
    const at = `ALERT_WEBHOOKS[${i}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      problems.push(`${at} must be an object`);
      return;
    }
    const e = entry as Record<string, unknown>;
    const before = problems.length;
    for (const key of Object.keys(e)) {
      if (!KEYS.has(key)) {
        problems.push(`${at}.${key} is not a known field (${[...KEYS].join(', ')})`);
      }
    }
    if (typeof e.name !== 'string' || !NAME.test(e.name)) {
      problems.push(`${at}.name must be 1-64 letters, digits, '_', '.' or '-'`);
    } else if (names.has(e.name)) {
      problems.push(`${at}.name repeats an earlier receiver's name`);
    } else {
      names.add(e.name);
    }
    if (typeof e.url !== 'string' || !isHttpUrl(e.url)) {
      problems.push(`${at}.url must be an http:// or https:// URL`);
    }
    if (e.format !== undefined && e.format !== 'json' && e.format !== 'slack') {
      problems.push(`${at}.format must be "json" or "slack"`);
    }
    const detectors = e.detectors;
    if (
      detectors !== undefined &&
      detectors !== 'all' &&
      !(
        Array.isArray(detectors) &&
        detectors.length > 0 &&
        detectors.every((d) => (FINDING_DETECTORS as readonly unknown[]).includes(d))
      )
    ) {
      problems.push(`${at}.detectors must be "all" or a list of ${FINDING_DETECTORS.join(', ')}`);
    }
    const repeat = e.repeat_interval_s;
    if (
      repeat !== undefined &&
      !(
        typeof repeat === 'number' &&
        Number.isInteger(repeat) &&
        repeat >= 60 &&
        repeat <= 2_592_000
      )
    ) {
      problems.push(`${at}.repeat_interval_s must be a whole number of seconds from 60 to 2592000`);
    }
    const headers = e.headers;
    if (
      headers !== undefined &&
      !(
        typeof headers === 'object' &&
        headers !== null &&
        !Array.isArray(headers) &&
        Object.entries(headers).every(
          ([k, v]) => HEADER_NAME.test(k) && typeof v === 'string' && !/[\r\n]/.test(v),
        )
      )
    ) {
      problems.push(`${at}.headers must map header names to single-line strings`);
    }
    if (problems.length > before) {
      return;
    }
    receivers.push(
      Object.freeze({
        name: e.name as string,
        url: e.url as string,
        format: (e.format as WebhookFormat | undefined) ?? 'json',
        detectors:
          detectors === undefined || detectors === 'all'
            ? null
            : Object.freeze([...new Set(detectors as DetectorName[])]),
        repeatIntervalMs: ((repeat as number | undefined) ?? DEFAULT_REPEAT_INTERVAL_S) * 1000,
        headers: Object.freeze({ ...((headers as Record<string, string> | undefined) ?? {}) }),
      }),
    );
  });
  return problems.length > 0 ? { receivers: [], problems } : { receivers, problems };
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}
