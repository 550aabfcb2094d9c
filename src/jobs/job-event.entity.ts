import { Entity, EntityRepositoryType, Enum, PrimaryKey, Property } from '@mikro-orm/core';
import { JobEventRepository } from './job-event.repository.js';
import { JobEventType } from './job-lifecycle.enum.js';

// Append-only: rows are inserted by the ingest writer and never updated; retention drops whole
// partitions. job_events is partitioned by the day it was received (native range partitioning,
// made by the migrations and the partition maintainer, src/jobs/storage/), keyed by the job row's
// id, and holds what an event adds: its time, run, worker, error. The job's identity (class, queue,
// arguments, payload) is on the job row once. No unique index: the writer dedupes under the job's
// lock. The schema generator leaves the table to the migrations (ormconfig skipTables): it cannot
// describe partitions.
@Entity({ tableName: 'job_events', repository: () => JobEventRepository })
export class JobEvent {
  [EntityRepositoryType]?: JobEventRepository;

  @PrimaryKey({ type: 'bigint' })
  id!: string;

  @Property({ type: 'bigint' })
  jobId!: string;

  @Enum({ items: () => JobEventType, type: 'text' })
  type!: string;

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

  /** a run's end stored with its start: the time of the run's `started` event it stands for too */
  @Property({ type: 'timestamptz', nullable: true })
  startedAt!: Date | null;

  @Property({ type: 'text', nullable: true })
  restartedAs!: string | null;

  @Property({ type: 'text', nullable: true })
  restartedFrom!: string | null;
}
