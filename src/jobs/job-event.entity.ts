import { Entity, PrimaryKey, Property } from '@mikro-orm/core';

// Append-only: rows are inserted by the ingest writer and never updated or deleted
// (except by retention).
@Entity({ tableName: 'job_events' })
export class JobEvent {
  @PrimaryKey({ type: 'bigint', autoincrement: true })
  id!: string;

  @Property({ type: 'text' })
  instance!: string;

  @Property({ type: 'text' })
  jid!: string;

  @Property({ type: 'text' })
  type!: string;

  @Property({ type: 'text' })
  dedupeKey!: string;

  @Property({ type: 'timestamptz' })
  occurredAt!: Date;

  @Property({ type: 'boolean' })
  clientTime!: boolean;

  @Property({ type: 'timestamptz' })
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
