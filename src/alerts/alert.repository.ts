import type { EntityManager } from '@mikro-orm/postgresql';
import { bindNumbered } from '../database/bind-numbered.js';
import type { FindingRow, NotificationKind } from './alert-bodies.js';

export interface DueNotification {
  id: string;
  kind: NotificationKind;
  attempts: number;
  finding: FindingRow;
}

export interface AttemptOutcome {
  notificationId: string;
  receiver: string;
  findingId: string;
  kind: NotificationKind;
  attempt: number;
  delivered: boolean;
  statusCode: number | null;
  error: string | null;
  sentAt: Date;
  /** failed: when it is tried again; null once given up */
  retryAt: Date | null;
}

export interface DeliveryRow {
  id: string;
  receiver: string;
  finding_id: string;
  kind: NotificationKind;
  attempt: number;
  delivered: boolean;
  status_code: number | null;
  error: string | null;
  sent_at: Date;
  next_attempt_at: Date | null;
}

export interface DeliveryFilter {
  receiver?: string;
  findingId?: string;
  kind?: NotificationKind;
  delivered?: boolean;
  beforeId?: string;
  limit: number;
}

// A receiver's notifications whose finding ended: the resolved one is due if the firing got
// through; if it never did, the receiver never heard of the finding and is told nothing more.
const ENDED_SQL = `
update alert_notifications n set
  pending = case when n.fired_at is not null then 'resolved' end,
  attempts = 0,
  next_attempt_at = case when n.fired_at is not null then $2::timestamptz end,
  done = n.fired_at is null
from findings f
where f.id = n.finding_id and n.receiver = $1 and not n.done and f.ended_at is not null
  and n.pending is distinct from 'resolved'`;

// Open findings routed to the receiver that it has no row for, oldest first, as long as its
// working set stays within the queue bound
const NEW_SQL = `
insert into alert_notifications (receiver, finding_id, pending, attempts, next_attempt_at, created_at)
select $1, f.id, 'firing', 0, $2::timestamptz, $2::timestamptz
from findings f
where f.ended_at is null and ($3::text[] is null or f.detector = any($3::text[]))
  and not exists (
    select 1 from alert_notifications n where n.receiver = $1 and n.finding_id = f.id)
order by f.started_at, f.id
limit greatest($4::int - (
  select count(*) from alert_notifications n where n.receiver = $1 and not n.done), 0)`;

// Still open (ended ones were settled first), still routed to the receiver (its configuration
// may have changed since the firing), and last told or given up on a repeat interval ago
// (greatest ignores nulls)
const REPEAT_SQL = `
update alert_notifications n set pending = 'repeat', attempts = 0, next_attempt_at = $2::timestamptz
from findings f
where f.id = n.finding_id and n.receiver = $1 and not n.done and n.pending is null
  and ($4::text[] is null or f.detector = any($4::text[]))
  and greatest(n.fired_at, n.gave_up_at) <= $2::timestamptz - $3::bigint * interval '1 millisecond'`;

const DUE_SQL = `
select n.id::text as id, n.pending as kind, n.attempts,
  f.id::text as f_id, f.detector, f.identity, f.instance, f.job_class, f.jid, f.severity,
  f.summary, f.evidence, f.started_at, f.last_seen_at, f.ended_at
from alert_notifications n join findings f on f.id = n.finding_id
where n.receiver = $1 and not n.done and n.pending is not null
  and n.next_attempt_at <= $2::timestamptz
order by n.next_attempt_at, n.id
limit $3`;

const RECORD_SQL = `
insert into alert_deliveries (receiver, finding_id, kind, attempt, delivered, status_code, error,
  sent_at, next_attempt_at)
values ($1, $2, $3, $4, $5, $6, $7, $8::timestamptz, $9::timestamptz)`;

const DELIVERED_SQL = `
update alert_notifications set pending = null, attempts = 0, next_attempt_at = null,
  fired_at = case when $2 = 'resolved' then fired_at else $3::timestamptz end,
  gave_up_at = null, done = ($2 = 'resolved')
where id = $1`;

const FAILED_SQL = `
update alert_notifications set attempts = $2,
  pending = case when $3::timestamptz is null then null else pending end,
  next_attempt_at = $3::timestamptz,
  gave_up_at = case when $3::timestamptz is null then $4::timestamptz else gave_up_at end,
  done = ($3::timestamptz is null and pending = 'resolved')
where id = $1`;

// While a receiver is down, everything else due for it waits for the same retry time instead of
// each notification spending its own attempts on a receiver known to be down
const HOLD_SQL = `
update alert_notifications set next_attempt_at = $2::timestamptz
where receiver = $1 and not done and pending is not null and next_attempt_at < $2::timestamptz`;

/** alert_notifications and alert_deliveries, and the findings they are about (read only). */
export class AlertRepository {
  constructor(private readonly em: EntityManager) {}

  /** Brings one receiver's notifications up to date with the findings (ended, new, to repeat). */
  async plan(
    receiver: string,
    detectors: readonly string[] | null,
    now: Date,
    repeatIntervalMs: number,
    queueMax: number,
  ): Promise<void> {
    const at = now.toISOString();
    const routed = detectors === null ? null : `{${detectors.join(',')}}`;
    await this.run(ENDED_SQL, [receiver, at]);
    await this.run(NEW_SQL, [receiver, at, routed, queueMax]);
    await this.run(REPEAT_SQL, [receiver, at, repeatIntervalMs, routed]);
  }

  async due(receiver: string, now: Date, limit: number): Promise<DueNotification[]> {
    const rows = await this.run<Record<string, unknown>[]>(DUE_SQL, [
      receiver,
      now.toISOString(),
      limit,
    ]);
    return rows.map((r) => ({
      id: r.id as string,
      kind: r.kind as NotificationKind,
      attempts: r.attempts as number,
      finding: {
        id: r.f_id as string,
        detector: r.detector as string,
        identity: r.identity as string,
        instance: r.instance as string,
        job_class: r.job_class as string | null,
        jid: r.jid as string | null,
        severity: r.severity as string,
        summary: r.summary as string,
        evidence: r.evidence as Record<string, unknown>,
        started_at: new Date(r.started_at as string),
        last_seen_at: new Date(r.last_seen_at as string),
        ended_at: r.ended_at === null ? null : new Date(r.ended_at as string),
      },
    }));
  }

  async record(o: AttemptOutcome): Promise<void> {
    await this.run(RECORD_SQL, [
      o.receiver,
      o.findingId,
      o.kind,
      o.attempt,
      o.delivered,
      o.statusCode,
      o.error,
      o.sentAt.toISOString(),
      o.retryAt?.toISOString() ?? null,
    ]);
    if (o.delivered) {
      await this.run(DELIVERED_SQL, [o.notificationId, o.kind, o.sentAt.toISOString()]);
    } else {
      await this.run(FAILED_SQL, [
        o.notificationId,
        o.attempt,
        o.retryAt?.toISOString() ?? null,
        o.sentAt.toISOString(),
      ]);
    }
  }

  async holdReceiver(receiver: string, until: Date): Promise<void> {
    await this.run(HOLD_SQL, [receiver, until.toISOString()]);
  }

  /** Deletes up to `limit` of the oldest log rows sent before `cutoff`; returns how many. */
  async pruneDeliveries(cutoff: Date, limit: number): Promise<number> {
    const rows = await this.run<{ id: string }[]>(
      `delete from alert_deliveries where id in (
         select id from alert_deliveries where sent_at < $1::timestamptz order by sent_at limit $2
       ) returning id`,
      [cutoff.toISOString(), limit],
    );
    return rows.length;
  }

  /** The delivery log, newest first. */
  deliveries(filter: DeliveryFilter): Promise<DeliveryRow[]> {
    return this.run<DeliveryRow[]>(
      `select id::text as id, receiver, finding_id::text as finding_id, kind, attempt, delivered,
         status_code, error, sent_at, next_attempt_at
       from alert_deliveries
       where ($1::text is null or receiver = $1) and ($2::bigint is null or finding_id = $2)
         and ($3::text is null or kind = $3) and ($4::boolean is null or delivered = $4)
         and ($5::bigint is null or id < $5)
       order by id desc limit $6`,
      [
        filter.receiver ?? null,
        filter.findingId ?? null,
        filter.kind ?? null,
        filter.delivered ?? null,
        filter.beforeId ?? null,
        filter.limit,
      ],
    );
  }

  private run<T = unknown[]>(sql: string, values: unknown[]): Promise<T> {
    return this.em.execute<T & unknown[]>(...bindNumbered(sql, values)) as Promise<T>;
  }
}
