import {
  Entity,
  EntityRepositoryType,
  Enum,
  Index,
  PrimaryKey,
  Property,
  Unique,
} from '@mikro-orm/core';
import { JobEventRepository } from './job-event.repository.js';
import { JobEventType } from './job-lifecycle.enum.js';

// Append-only: rows are inserted by the ingest writer and never updated or deleted
// (except by retention).
@Entity({ tableName: 'job_events', repository: () => JobEventRepository })
// one row per distinct event: a repeated event (HTTP retry) is a no-op
@Unique({ name: 'job_events_dedupe_idx', properties: ['instance', 'jid', 'dedupeKey'] })
@Index({
  name: 'job_events_received_at_brin',
  expression:
    'create index "job_events_received_at_brin" on "job_events" using brin ("received_at")',
})
export class JobEvent {
  [EntityRepositoryType]?: JobEventRepository;

  @PrimaryKey({ type: 'bigint', autoincrement: true, generated: 'by default as identity' })
  id!: string;

  @Property({ type: 'text' })
  instance!: string;

  @Property({ type: 'text' })
  jid!: string;

  @Enum({ items: () => JobEventType, type: 'text' })
  type!: string;

  @Property({ type: 'text' })
  dedupeKey!: string;

  @Property({ type: 'timestamptz' })
  occurredAt!: Date;

  @Property({ type: 'boolean' })
  clientTime!: boolean;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  receivedAt!: Date;

  @Property({ type: 'integer' })
  attempt!: number;

  @Property({ type: 'integer', nullable: true })
  retryCount!: number | null;

  @Property({ type: 'text', nullable: true })
  jobClass!: string | null;

  @Property({ type: 'text', nullable: true })
  queue!: string | null;

  @Property({ type: 'text', nullable: true })
  arguments!: string | null;

  @Property({ type: 'text', nullable: true, lazy: true })
  payload!: string | null;

  @Property({ type: 'text', nullable: true })
  wrapperClass!: string | null;

  @Property({ type: 'text', nullable: true, lazy: true })
  rawArguments!: string | null;

  @Property({ type: 'text', nullable: true })
  activeJobId!: string | null;

  @Property({ type: 'timestamptz', nullable: true })
  enqueuedAt!: Date | null;

  @Property({ type: 'timestamptz', nullable: true })
  createdAt!: Date | null;

  @Property({ type: 'timestamptz', nullable: true })
  scheduledAt!: Date | null;

  @Property({ type: 'text', nullable: true })
  hostname!: string | null;

  @Property({ type: 'integer', nullable: true })
  pid!: number | null;

  @Property({ type: 'text', nullable: true })
  tid!: string | null;

  @Property({ type: 'text', nullable: true })
  errorClass!: string | null;

  @Property({ type: 'text', nullable: true })
  errorMessage!: string | null;

  @Property({ type: 'json', nullable: true })
  errorBacktrace!: string[] | null;

  @Property({ type: 'boolean', nullable: true })
  willRetry!: boolean | null;

  @Property({ type: 'double', nullable: true })
  durationMs!: number | null;

  @Property({ type: 'text', nullable: true })
  restartedAs!: string | null;

  @Property({ type: 'text', nullable: true })
  restartedFrom!: string | null;
}
