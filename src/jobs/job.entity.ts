import {
  Entity,
  EntityRepositoryType,
  Formula,
  Index,
  PrimaryKey,
  Property,
  Unique,
} from '@mikro-orm/core';
import { bytesSql, previewSql } from '../common/preview.js';
import { JobRepository } from './job.repository.js';

// Every column is derived from job_events by JobRepository's fold (see ingest/):
// the row is a pure function of the set of events for (instance, jid).
// Values without a length limit (arguments, error message and backtrace, payload) are lazy: lists
// read their previews (formulas, cut in SQL) and only the job's own route loads them whole.
@Entity({ tableName: 'jobs', repository: () => JobRepository })
@Unique({ properties: ['instance', 'jid'] })
// The indexes of the migrations, so that a generated migration keeps them. List pages walk id
// descending within a filter:
@Index({ name: 'jobs_status_id_index', properties: ['status', 'id'] })
@Index({ name: 'jobs_job_class_id_index', properties: ['jobClass', 'id'] })
@Index({ name: 'jobs_queue_id_index', properties: ['queue', 'id'] })
// retention and time filters (BRIN: rows arrive roughly in last_event_at order)
@Index({
  name: 'jobs_last_event_at_brin',
  expression: 'create index "jobs_last_event_at_brin" on "jobs" using brin ("last_event_at")',
})
// argument substring search, alone or with a status (pg_trgm, btree_gin)
@Index({
  name: 'jobs_status_arguments_trgm_index',
  expression: `create index "jobs_status_arguments_trgm_index" on "jobs"
    using gin ("status", "arguments" gin_trgm_ops)`,
})
// job metrics over terminal jobs (JobRepository.outcomeWindow, Migration20261123020000)
@Index({
  name: 'jobs_class_outcome_metrics_index',
  expression: `create index "jobs_class_outcome_metrics_index" on "jobs"
    ("job_class", "queue", (coalesce("completed_at", "failed_at")))
    include ("instance", "status", "created_at", "enqueued_at", "started_at", "completed_at",
      "failed_at", "duration_ms")
    where "status" in ('succeeded', 'failed', 'dead')`,
})
@Index({
  name: 'jobs_outcome_at_index',
  expression: `create index "jobs_outcome_at_index" on "jobs"
    ((coalesce("completed_at", "failed_at"))) where "status" in ('succeeded', 'failed', 'dead')`,
})
@Index({
  name: 'jobs_active_job_id_index',
  expression: `create index "jobs_active_job_id_index" on "jobs" ("active_job_id")
    where "active_job_id" is not null`,
})
export class Job {
  [EntityRepositoryType]?: JobRepository;

  @PrimaryKey({ type: 'bigint', autoincrement: true, generated: 'by default as identity' })
  id!: string;

  @Property({ type: 'text' })
  instance!: string;

  @Property({ type: 'text' })
  jid!: string;

  @Property({ type: 'text', nullable: true })
  jobClass!: string | null;

  @Property({ type: 'text', nullable: true })
  queue!: string | null;

  @Property({ type: 'text', nullable: true, lazy: true })
  arguments!: string | null;

  @Formula((t) => previewSql(t.alias, 'arguments'), { type: 'text', nullable: true })
  argumentsPreview!: string | null;

  @Formula((t) => bytesSql(t.alias, 'arguments'), { type: 'integer', nullable: true })
  argumentsBytes!: number | null;

  @Property({ type: 'text', nullable: true, lazy: true })
  payload!: string | null;

  /** Active Job's Sidekiq wrapper (then job_class and arguments are the real job's) */
  @Property({ type: 'text', nullable: true })
  wrapperClass!: string | null;

  /** the wrapper's arguments as reported */
  @Property({ type: 'text', nullable: true, lazy: true })
  rawArguments!: string | null;

  @Property({ type: 'text', nullable: true })
  activeJobId!: string | null;

  @Property({ type: 'text' })
  status!: string;

  @Property({ type: 'integer' })
  attempt!: number;

  @Property({ type: 'timestamptz', nullable: true })
  createdAt!: Date | null;

  @Property({ type: 'timestamptz', nullable: true })
  enqueuedAt!: Date | null;

  @Property({ type: 'timestamptz', nullable: true })
  scheduledAt!: Date | null;

  @Property({ type: 'timestamptz', nullable: true })
  startedAt!: Date | null;

  @Property({ type: 'timestamptz', nullable: true })
  completedAt!: Date | null;

  @Property({ type: 'timestamptz', nullable: true })
  failedAt!: Date | null;

  @Property({ type: 'text', nullable: true })
  hostname!: string | null;

  @Property({ type: 'integer', nullable: true })
  pid!: number | null;

  @Property({ type: 'text', nullable: true })
  tid!: string | null;

  @Property({ type: 'text', nullable: true })
  errorClass!: string | null;

  @Property({ type: 'text', nullable: true, lazy: true })
  errorMessage!: string | null;

  @Formula((t) => previewSql(t.alias, 'error_message'), { type: 'text', nullable: true })
  errorMessagePreview!: string | null;

  @Formula((t) => bytesSql(t.alias, 'error_message'), { type: 'integer', nullable: true })
  errorMessageBytes!: number | null;

  @Property({ type: 'json', nullable: true, lazy: true })
  errorBacktrace!: string[] | null;

  @Property({ type: 'boolean', nullable: true })
  willRetry!: boolean | null;

  @Property({ type: 'double', nullable: true })
  durationMs!: number | null;

  @Property({ type: 'text', nullable: true })
  restartedAs!: string | null;

  @Property({ type: 'text', nullable: true })
  restartedFrom!: string | null;

  @Property({ type: 'integer' })
  eventCount!: number;

  @Property({ type: 'timestamptz' })
  firstEventAt!: Date;

  @Property({ type: 'timestamptz' })
  lastEventAt!: Date;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  updatedAt!: Date;
}
