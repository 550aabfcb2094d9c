import {
  Entity,
  EntityRepositoryType,
  Formula,
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
export class Job {
  [EntityRepositoryType]?: JobRepository;

  @PrimaryKey({ type: 'bigint', autoincrement: true })
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

  @Property({ type: 'timestamptz' })
  updatedAt!: Date;
}
