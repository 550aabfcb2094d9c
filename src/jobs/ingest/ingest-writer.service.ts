import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import pg from 'pg';
import { AppConfig } from '../../config/app-config.js';
import type { IngestEvent } from './columns.js';
import { EventStore } from './event-store.js';
import { type FlushStats, GroupCommit } from './group-commit.js';

export type { FlushStats } from './group-commit.js';

/**
 * Stores events by group commit (group-commit.ts): each group is one transaction of the event
 * store (event-store.ts), on a pool of its own with one connection per concurrent group.
 */
@Injectable()
export class IngestWriterService implements OnApplicationShutdown {
  private readonly logger = new Logger(IngestWriterService.name);
  private readonly pool: pg.Pool;
  private readonly groups: GroupCommit<IngestEvent>;

  constructor(config: AppConfig) {
    this.pool = new pg.Pool({
      connectionString: config.databaseUrl,
      max: config.ingest.groupConcurrency,
      connectionTimeoutMillis: 3000,
      idleTimeoutMillis: 30_000,
    });
    // an idle client losing its connection (Postgres restart) must not crash the process
    this.pool.on('error', (error) =>
      this.logger.warn(`idle ingest connection lost: ${error.message}`),
    );
    const store = new EventStore(this.pool, this.logger, config.ingest.keepSucceededPayloads);
    this.groups = new GroupCommit(
      config.ingest,
      (events) => store.commit(events),
      (error) => this.logger.error(error),
    );
  }

  onFlush(listener: (stats: FlushStats) => void): void {
    this.groups.onFlush(listener);
  }

  /** Resolves, after commit, with one flag per event: true when it was already stored. */
  write(events: IngestEvent[]): Promise<boolean[]> {
    return this.groups.write(events);
  }

  /** Lets queued and running groups commit (HTTP has stopped taking requests by now). */
  async onApplicationShutdown(): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!this.groups.idle && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await this.pool.end();
  }
}
