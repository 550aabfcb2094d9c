import type { FailureEventRow } from '../../jobs/job-insights.service.js';
import { fingerprintOf, MAX_CLASSES } from './fingerprint.js';

/** Characters of a sample's own message kept (as the job lists' previews). */
export const SAMPLE_MESSAGE_MAX = 2048;

/** What a batch of failures adds to one fingerprint of one instance. */
export interface FingerprintDelta {
  instance: string;
  fingerprint: string;
  errorClass: string;
  message: string;
  frame: string | null;
  firstSeenAt: Date;
  lastSeenAt: Date;
  count: number;
  jobClasses: string[];
  jobClassesTruncated: boolean;
  sampleJid: string;
  sampleMessage: string | null;
}

export interface HourDelta {
  instance: string;
  fingerprint: string;
  hour: Date;
  count: number;
}

export const hourOf = (at: Date) => new Date(Math.floor(at.getTime() / 3_600_000) * 3_600_000);

/** Groups failures by instance and fingerprint, with their counts per UTC hour. */
export function aggregateFailures(rows: readonly FailureEventRow[]): {
  fingerprints: FingerprintDelta[];
  hours: HourDelta[];
} {
  const groups = new Map<string, FingerprintDelta & { classes: Set<string> }>();
  const hours = new Map<string, HourDelta>();
  for (const row of rows) {
    const shape = fingerprintOf(row.errorClass, row.errorMessage, row.backtrace);
    const key = `${row.instance}\u0000${shape.fingerprint}`;
    let group = groups.get(key);
    if (!group) {
      group = {
        instance: row.instance,
        fingerprint: shape.fingerprint,
        errorClass: shape.errorClass,
        message: shape.message,
        frame: shape.frame,
        firstSeenAt: row.occurredAt,
        lastSeenAt: row.occurredAt,
        count: 0,
        jobClasses: [],
        jobClassesTruncated: false,
        sampleJid: row.jid,
        sampleMessage: sample(row.errorMessage),
        classes: new Set(),
      };
      groups.set(key, group);
    }
    group.count++;
    if (row.occurredAt < group.firstSeenAt) {
      group.firstSeenAt = row.occurredAt;
    }
    if (row.occurredAt >= group.lastSeenAt) {
      group.lastSeenAt = row.occurredAt;
      group.sampleJid = row.jid;
      group.sampleMessage = sample(row.errorMessage);
    }
    if (row.jobClass !== null) {
      group.classes.add(row.jobClass);
    }
    const hour = hourOf(row.occurredAt);
    const hourKey = `${key}\u0000${hour.getTime()}`;
    const bucket = hours.get(hourKey);
    if (bucket) {
      bucket.count++;
    } else {
      hours.set(hourKey, {
        instance: row.instance,
        fingerprint: shape.fingerprint,
        hour,
        count: 1,
      });
    }
  }
  const fingerprints = [...groups.values()].map(({ classes, ...group }) => {
    const sorted = [...classes].sort();
    return {
      ...group,
      jobClasses: sorted.slice(0, MAX_CLASSES),
      jobClassesTruncated: sorted.length > MAX_CLASSES,
    };
  });
  return { fingerprints, hours: [...hours.values()] };
}

function sample(message: string | null): string | null {
  return message === null
    ? null
    : [...message.slice(0, SAMPLE_MESSAGE_MAX * 2)].slice(0, SAMPLE_MESSAGE_MAX).join('');
}
