import { MikroORM } from '@mikro-orm/postgresql';
import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import type { AlertReceiver } from '../config/alert-webhooks.js';
import { tryAdvisoryXactLock } from '../database/advisory-locks.js';
import { jobLink, notificationBody, retryDelayMs } from './alert-bodies.js';
import {
  AlertRepository,
  type AttemptOutcome,
  type DeliveryFilter,
  type DueNotification,
} from './alert.repository.js';
import type { DeliveryPageDto } from './dto/alert-delivery.dto.js';
import { postWebhook } from './webhook-sender.js';

export interface AlertTickResult {
  ran: boolean;
  delivered: number;
  failed: number;
}

const PRUNE_BATCH = 1000;

/**
 * Tells webhook receivers about findings: a firing when one opens, again every repeat interval
 * while it lasts, a resolved when it ends, with retries while a receiver is down, every attempt
 * in the delivery log. One copy of the service at a time (advisory lock `alerts`).
 */
@Injectable()
export class AlertsService {
  private readonly logger = new Logger(AlertsService.name);

  constructor(
    private readonly orm: MikroORM,
    private readonly config: AppConfig,
  ) {}

  /**
   * One round: each receiver's notifications brought up to date with the findings, then the due
   * ones sent, receivers side by side, at most ALERT_BATCH each. The tick holds its transaction
   * (and so the lock) while it sends, so no other copy plans or sends meanwhile; a crash before
   * commit sends those notifications again (at least once).
   */
  async tick(now: Date): Promise<AlertTickResult> {
    const receivers = this.config.alerts.receivers;
    if (receivers.length === 0) {
      return { ran: false, delivered: 0, failed: 0 };
    }
    return this.orm.em.fork().transactional(async (em) => {
      if (!(await tryAdvisoryXactLock(em, 'alerts'))) {
        return { ran: false, delivered: 0, failed: 0 };
      }
      const repo = new AlertRepository(em);
      for (const r of receivers) {
        await repo.plan(r.name, r.detectors, now, r.repeatIntervalMs, this.config.alerts.queueMax);
      }
      const due: DueNotification[][] = [];
      for (const r of receivers) {
        due.push(await repo.due(r.name, now, this.config.alerts.batch));
      }
      // the requests go out side by side; the transaction's one connection takes the writes after
      const sent = await Promise.all(receivers.map((r, i) => this.send(r, due[i], now)));
      const counts = { delivered: 0, failed: 0 };
      for (const [i, { outcomes, holdUntil }] of sent.entries()) {
        for (const outcome of outcomes) {
          await repo.record(outcome);
          counts[outcome.delivered ? 'delivered' : 'failed']++;
        }
        if (holdUntil) {
          await repo.holdReceiver(receivers[i].name, holdUntil);
        }
      }
      const cutoff = new Date(now.getTime() - this.config.alerts.logRetentionDays * 86_400_000);
      await repo.pruneDeliveries(cutoff, PRUNE_BATCH);
      return { ran: true, ...counts };
    });
  }

  /**
   * Sends one receiver's due notifications in order and stops at its first failure (it is down):
   * what each attempt gave, and until when its other notifications wait after a failure.
   */
  private async send(
    receiver: AlertReceiver,
    due: DueNotification[],
    now: Date,
  ): Promise<{ outcomes: AttemptOutcome[]; holdUntil: Date | null }> {
    const { timeoutMs, maxAttempts, retryBaseMs, retryMaxMs, linkBaseUrl } = this.config.alerts;
    const outcomes: AttemptOutcome[] = [];
    for (const notification of due) {
      const body = notificationBody(receiver.format, {
        receiver: receiver.name,
        kind: notification.kind,
        finding: notification.finding,
        link: jobLink(linkBaseUrl, notification.finding),
        sentAt: now,
      });
      const result = await postWebhook(receiver.url, receiver.headers, body, timeoutMs);
      const attempt = notification.attempts + 1;
      const retryAt =
        result.delivered || attempt >= maxAttempts
          ? null
          : new Date(now.getTime() + retryDelayMs(attempt, retryBaseMs, retryMaxMs));
      outcomes.push({
        notificationId: notification.id,
        receiver: receiver.name,
        findingId: notification.finding.id,
        kind: notification.kind,
        attempt,
        ...result,
        sentAt: now,
        retryAt,
      });
      if (result.delivered) {
        continue;
      }
      if (retryAt === null) {
        this.logger.warn(
          `alert ${notification.kind} of finding ${notification.finding.id} to ${receiver.name} given up after ${attempt} attempts: ${result.error}`,
        );
      }
      return {
        outcomes,
        holdUntil: retryAt ?? new Date(now.getTime() + retryDelayMs(1, retryBaseMs, retryMaxMs)),
      };
    }
    return { outcomes, holdUntil: null };
  }

  /** The delivery log, newest first, a page at a time. */
  async deliveries(filter: DeliveryFilter): Promise<DeliveryPageDto> {
    const rows = await new AlertRepository(this.orm.em.fork()).deliveries({
      ...filter,
      limit: filter.limit + 1,
    });
    const page = rows.slice(0, filter.limit);
    return {
      deliveries: page.map((r) => ({
        id: Number(r.id),
        receiver: r.receiver,
        finding_id: Number(r.finding_id),
        kind: r.kind,
        attempt: r.attempt,
        delivered: r.delivered,
        status_code: r.status_code,
        error: r.error,
        sent_at: new Date(r.sent_at).toISOString(),
        next_attempt_at: r.next_attempt_at ? new Date(r.next_attempt_at).toISOString() : null,
      })),
      next_cursor: rows.length > filter.limit ? (page.at(-1)?.id ?? null) : null,
    };
  }
}
