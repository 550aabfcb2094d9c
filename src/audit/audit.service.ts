import { MikroORM } from '@mikro-orm/postgresql';
import { Injectable, Logger } from '@nestjs/common';
import { Clock } from '../common/clock.js';
import { DomainError } from '../common/errors/domain-error.js';
import { AppConfig } from '../config/app-config.js';
import { tryAdvisoryXactLock } from '../database/advisory-locks.js';
import { isDatabaseUnavailable } from '../database/pg-errors.js';
import {
  type AuditEntry,
  type AuditOutcome,
  summarizeError,
  summarizeResult,
} from './audit-capture.js';
import { type AuditFilter, AuditRepository, type AuditRow } from './audit.repository.js';

/**
 * The audit log (README "Audit log"): every change made through the service is recorded before it
 * is made (outcome 'pending'), and finished with its outcome after. A change whose record cannot
 * be written is not made: begin() throws AUDIT_UNAVAILABLE, or DATABASE_UNAVAILABLE when PostgreSQL
 * is out of reach (both 503), and the caller stops there.
 */
@Injectable()
export class AuditService {
  private readonly logger = new Logger(AuditService.name);

  constructor(
    private readonly orm: MikroORM,
    private readonly clock: Clock,
    private readonly config: AppConfig,
  ) {}

  /** Writes the pending record (committed when this returns) and gives its id. */
  async begin(entry: AuditEntry): Promise<string> {
    try {
      return await new AuditRepository(this.orm.em.fork()).insert(entry, this.clock.date());
    } catch (error) {
      this.logger.error(
        `audit record for ${entry.action} not written, change refused: ${(error as Error).message}`,
      );
      // PostgreSQL out of reach is the service's one outage code; anything else (the table
      // refusing the insert) is the audit log's own
      throw isDatabaseUnavailable(error)
        ? new DomainError(
            'DATABASE_UNAVAILABLE',
            'PostgreSQL is unavailable: the audit record of this change could not be written, so the change was not made; retry later',
          )
        : new DomainError(
            'AUDIT_UNAVAILABLE',
            'The audit record of this change could not be written, so the change was not made; retry later',
          );
    }
  }

  /**
   * Records how a change ended. Never throws: the change has happened (or failed) by now, and
   * its record already says it was attempted; one that cannot be finished stays 'pending'.
   */
  async finish(id: string, outcome: AuditOutcome): Promise<void> {
    try {
      await new AuditRepository(this.orm.em.fork()).finish(id, outcome, this.clock.date());
    } catch (error) {
      this.logger.warn(
        `audit record ${id} stays pending, its outcome was not written: ${(error as Error).message}`,
      );
    }
  }

  /** begin(), `change`, finish(): for changes made outside HTTP (the REPL). */
  async record<T>(
    entry: AuditEntry,
    change: () => Promise<T>,
    summarize: (value: T) => Record<string, unknown>,
  ): Promise<T> {
    const id = await this.begin(entry);
    let value: T;
    try {
      value = await change();
    } catch (error) {
      await this.finish(id, { outcome: 'error', error: summarizeError(error) });
      throw error;
    }
    // as a route's outcome is: counts, and what `summarize` picks (jids up to MAX_JIDS)
    const result = summarizeResult(
      { action: entry.action, result: (v) => summarize(v as T) },
      value,
    );
    await this.finish(id, { outcome: 'ok', result });
    return value;
  }

  list(filter: AuditFilter): Promise<AuditRow[]> {
    return new AuditRepository(this.orm.em.fork()).list(filter);
  }

  /**
   * Deletes records older than AUDIT_RETENTION_DAYS, RETENTION_BATCH at a time, each batch in a
   * transaction under the retention lock; null when another copy holds the lock.
   */
  async prune(now: Date): Promise<number | null> {
    const cutoff = new Date(now.getTime() - this.config.retention.auditDays * 86_400_000);
    const batch = this.config.retention.batch;
    let total = 0;
    for (;;) {
      const n = await this.orm.em
        .fork()
        .transactional(async (em) =>
          (await tryAdvisoryXactLock(em, 'retention'))
            ? new AuditRepository(em).pruneBefore(cutoff, batch)
            : null,
        );
      if (n === null) {
        return total === 0 ? null : total;
      }
      total += n;
      if (n < batch) {
        return total;
      }
    }
  }
}
