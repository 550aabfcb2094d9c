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
import { payloadSql } from './ingest/payload-args.js';
import { JobRepository } from './job.repository.js';

// Every column is derived from the job's events by the ingest writer's fold (see ingest/). The
// identity (class, queue, arguments, payload, the Active Job wrapper) is stored here once, not on
// the events; the payload without its args (payload_rest; `payload` puts them back in SQL).
// Values without a length limit (arguments, error message and backtrace, payload) are lazy: lists
// read their previews (formulas, cut in SQL) and only the job's own route loads them whole.
// Each index serves a query that needs it (README, "Storage"):
@Entity({ tableName: 'jobs', repository: () => JobRepository })
// the writer's lookup of a batch's jobs, job by jid (status API, detail) with or without instance
@Unique({ name: 'jobs_jid_instance_unique', properties: ['jid', 'instance'] })
// lists filtered by class, queue or status, alone or with an arguments substring (pg_trgm,
// btree_gin). New entries go to a pending list of at most 256 kB, merged into the index in bulk:
// inserting each row's trigrams straight into the index (fastupdate off) cost 3x the time, and the
// default 4 MB list holds ~200 bytes a job until the table is large
@Index({
  name: 'jobs_search_index',
  expression: `create index "jobs_search_index" on "jobs"
    using gin ("job_class", "queue", "status", "arguments" gin_trgm_ops) with (fastupdate = on, gin_pending_list_limit = 256)`,
})
// retention and time filters (BRIN: rows arrive roughly in last_event_at order)
@Index({
  name: 'jobs_last_event_at_brin',
  expression: 'create index "jobs_last_event_at_brin" on "jobs" using brin ("last_event_at")',
})
// job metrics over terminal jobs, class by class (JobRepository.outcomeWindow, classWindow); the
// columns they read are included, so a class's window is an index-only scan (Migration20261205040000)
@Index({
  name: 'jobs_class_outcome_index',
  expression: `create index "jobs_class_outcome_index" on "jobs"
    ("job_class", (coalesce("completed_at", "failed_at")))
    include ("status", "instance", "completed_at", "failed_at", "started_at", "enqueued_at", "created_at", "duration_ms")
    where "status" in ('succeeded', 'failed', 'dead')`,
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

  /** the raw payload, made whole from payload_rest and the arguments (payload-args.ts) */
  @Formula((t) => payloadSql(t.alias), { type: 'text', nullable: true, lazy: true })
  payload!: string | null;

  /** the payload without its args */
  @Property({ type: 'text', nullable: true, lazy: true })
  payloadRest!: string | null;

  /** where in payload_rest the args go back (characters), or null: payload_rest is whole */
  @Property({ type: 'integer', nullable: true, lazy: true })
  payloadArgsAt!: number | null;

  /** when the event this identity came from occurred (an earlier one replaces it) */
  @Property({ type: 'timestamptz', nullable: true })
  identityAt!: Date | null;

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

  /** when the row was made: its events were received from then on (their partitions) */
  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  firstReceivedAt!: Date;

  /** the last write: its events were received until then */
  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  updatedAt!: Date;
}
