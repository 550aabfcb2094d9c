import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { invalid } from '../../common/validation/invalid.js';
import { AppConfig } from '../../config/app-config.js';
import type { ProcessLifeDto, ProcessLifePageDto } from './dto/process-life.dto.js';
import type { ProcessEvent } from './process-event.js';
import { livesOf, statusOf } from './process-life.js';
import { type ProcessRow, ProcessLifeRepository } from './process-life.repository.js';
import type { LifeView } from './lost-rule.js';

// lives JobManager and the stuck detector judge running jobs by, per instance: far more than the
// processes of any installation (each restart of a process is one more life, kept
// PROCESS_RETENTION_DAYS once ended)
const MAX_JUDGED_LIVES = 10_000;

/** Sidekiq process lives, as their startup / heartbeat / quiet / shutdown events tell them. */
@Injectable()
export class ProcessLivesService {
  constructor(
    private readonly em: EntityManager,
    private readonly config: AppConfig,
  ) {}

  private repo(): ProcessLifeRepository {
    return new ProcessLifeRepository(this.em.fork());
  }

  /** Merges the events into their lives (order-independent, idempotent). */
  async record(events: readonly ProcessEvent[]): Promise<void> {
    await this.repo().record(livesOf(events));
  }

  silentBefore(now: Date): Date {
    return new Date(now.getTime() - this.config.processes.heartbeatTimeoutSeconds * 1000);
  }

  async list(
    q: { instance?: string; status?: string[]; limit?: number; cursor?: string },
    now = new Date(),
  ): Promise<ProcessLifePageDto> {
    const limit = q.limit ?? 50;
    const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor);
    if (after === null) {
      throw invalid('cursor', 'is not a cursor returned by this API');
    }
    const silentBefore = this.silentBefore(now);
    const rows = await this.repo().list({
      instance: q.instance,
      statuses: q.status,
      silentBefore,
      limit: limit + 1,
      after,
    });
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      processes: page.map((r) => toDto(r, silentBefore)),
      next_cursor: rows.length > limit && last ? encodeCursor(last) : null,
      heartbeat_timeout_s: this.config.processes.heartbeatTimeoutSeconds,
    };
  }

  /** The lives running jobs are judged by (lost-rule.ts), the most recently heard from first. */
  async lives(instance?: string): Promise<LifeView[]> {
    return this.repo().recent(instance, MAX_JUDGED_LIVES);
  }

  /** The lives of the processes (instance, hostname, pid) a page of jobs ran on. */
  async livesOfWorkers(
    keys: readonly { instance: string; hostname: string; pid: number }[],
  ): Promise<LifeView[]> {
    const unique = new Map(keys.map((k) => [`${k.instance}\u0000${k.hostname}\u0000${k.pid}`, k]));
    return this.repo().ofWorkers([...unique.values()]);
  }

  /** Retention: removes up to `limit` lives that ended before `cutoff`. */
  prune(cutoff: Date, limit: number): Promise<number> {
    return this.repo().deleteEndedBefore(cutoff, limit);
  }
}

function toDto(r: ProcessRow, silentBefore: Date): ProcessLifeDto {
  const iso = (d: Date | null) => (d === null ? null : d.toISOString());
  return {
    instance: r.instance,
    identity: r.identity,
    status: statusOf(r, silentBefore),
    hostname: r.hostname,
    pid: r.pid,
    tag: r.tag,
    sidekiq_version: r.sidekiqVersion,
    client_version: r.clientVersion,
    concurrency: r.concurrency,
    queues: r.queues,
    started_at: iso(r.startedAt),
    last_heartbeat_at: r.lastHeartbeatAt.toISOString(),
    quiet_at: iso(r.quietAt),
    stopped_at: iso(r.stoppedAt),
  };
}

function encodeCursor(r: ProcessRow): string {
  return Buffer.from(JSON.stringify([r.cursorAt, r.instance, r.identity])).toString('base64url');
}

function decodeCursor(
  cursor: string,
): { lastEventAt: string; instance: string; identity: string } | null {
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(v) &&
      v.length === 3 &&
      v.every((x) => typeof x === 'string') &&
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/.test(v[0] as string)
    ) {
      const [lastEventAt, instance, identity] = v as string[];
      return { lastEventAt, instance, identity };
    }
  } catch {
    return null;
  }
  return null;
}
