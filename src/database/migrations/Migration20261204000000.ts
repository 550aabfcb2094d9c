import { Migration } from '@mikro-orm/migrations';
import { partitionDays, partitionSql } from '../../jobs/storage/partition-sql.js';

// Lean storage (#20): history that is cheap to write, to keep and to expire.
//
// job_events becomes an append-only log partitioned by the UTC day it was received, keyed by the
// job row's id, holding what an event adds (times, run, worker, error); the job's identity (class,
// queue, arguments, payload) is on the job row once. No unique index: the writer dedupes under the
// job's advisory lock, and the dedupe key is derived from type, attempt and client time. Ids go on
// from the old table's (the metrics cursor's high-water mark stays valid).
//
// jobs keeps one row per job, with fewer indexes: a unique (jid, instance) (the writer's lookup, the
// status API by jid alone), one GIN over class, queue, status and arguments (lists and argument
// search), the class-first outcome index without the covered columns, a BRIN on last_event_at and
// the Active Job id. The payload is stored without its args (payload_rest + payload_args_at).
//
// Existing history moves over in place: every event with its job's id, one partition per day it
// was received on (plus today and the days ahead), payloads cut where their args are found.
export class Migration20261204000000 extends Migration {
  override async up(): Promise<void> {
    // jobs: the columns the new writer keeps
    await this.execute(`alter table "jobs"
      add column "identity_at" timestamptz null,
      add column "first_received_at" timestamptz null,
      add column "payload_args_at" int null;`);
    await this.execute(`alter table "jobs" rename column "payload" to "payload_rest";`);
    // the indexes that go, before every row is rewritten below (a row version written while they
    // exist is written into each of them too); the new ones are built once the rows are final
    await this.execute(`alter table "jobs" drop constraint "jobs_instance_jid_unique";`);
    for (const index of [
      'jobs_status_id_index',
      'jobs_job_class_id_index',
      'jobs_queue_id_index',
      'jobs_status_arguments_trgm_index',
      'jobs_class_outcome_metrics_index',
      'jobs_outcome_at_index',
    ]) {
      await this.execute(`drop index if exists "${index}";`);
    }

    // the old log under another name; its indexes and sequence too, so the new names are free
    await this.execute(`alter table "job_events" rename to "job_events_old";`);
    await this.execute(`alter index "job_events_pkey" rename to "job_events_old_pkey";`);
    await this.execute(
      `alter index "job_events_dedupe_idx" rename to "job_events_old_dedupe_idx";`,
    );
    await this.execute(
      `alter index "job_events_received_at_brin" rename to "job_events_old_received_at_brin";`,
    );
    await this.execute(`alter sequence "job_events_id_seq" rename to "job_events_old_id_seq";`);

    // Each row once: when its identity arrived, since when its events were received, and its
    // payload without its args where they are there byte for byte (payload-args.ts)
    const args = `coalesce(j.raw_arguments, j.arguments)`;
    const argsAt = `position('"args":' || ${args} in j.payload_rest)`;
    const cut = `(j.payload_rest is not null and ${args} <> '' and ${argsAt} > 0)`;
    await this.execute(`update "jobs" j set
        "identity_at" = s.identity_at,
        "first_received_at" = s.first_received_at,
        "payload_rest" = case when ${cut}
          then overlay(j.payload_rest placing '' from ${argsAt} + 7 for length(${args}))
          else j.payload_rest end,
        "payload_args_at" = case when ${cut} then ${argsAt} + 6 end
      from (select instance, jid, min(received_at) as first_received_at,
          min(occurred_at) filter (where job_class is not null or queue is not null
            or arguments is not null or payload is not null or wrapper_class is not null
            or raw_arguments is not null or active_job_id is not null) as identity_at
        from "job_events_old" group by instance, jid) s
      where j.instance = s.instance and j.jid = s.jid;`);
    // a row without events (the old writer made none; written by hand): its payload stays whole
    await this
      .execute(`update "jobs" set "first_received_at" = least("updated_at", "first_event_at")
      where "first_received_at" is null;`);
    await this.execute(`alter table "jobs"
      alter column "first_received_at" set not null,
      alter column "first_received_at" set default now();`);

    // the new log
    await this.execute(`create sequence "job_events_id_seq" as bigint;`);
    await this.execute(`select setval('job_events_id_seq',
      (select coalesce(max(id), 0) + 1 from "job_events_old"), false);`);
    await this.execute(`create table "job_events" (
      "id" bigint not null default nextval('job_events_id_seq'),
      "job_id" bigint not null,
      "occurred_at" timestamptz not null,
      "received_at" timestamptz not null default now(),
      "enqueued_at" timestamptz null,
      "created_at" timestamptz null,
      "scheduled_at" timestamptz null,
      "duration_ms" double precision null,
      "started_at" timestamptz null,
      "attempt" int not null,
      "retry_count" int null,
      "pid" int null,
      "client_time" boolean not null,
      "will_retry" boolean null,
      "type" text not null,
      "hostname" text null,
      "tid" text null,
      "error_class" text null,
      "error_message" text null,
      "error_backtrace" jsonb null,
      "restarted_as" text null,
      "restarted_from" text null
    ) partition by range ("received_at");`);
    await this.execute(`alter sequence "job_events_id_seq" owned by "job_events"."id";`);
    await this.execute(`create table "job_events_default" partition of "job_events" default;`);
    const days = (await this.execute(
      `select distinct to_char(received_at at time zone 'UTC', 'YYYY-MM-DD') as day
       from "job_events_old"`,
    )) as { day: string }[];
    const today = new Date();
    for (const day of partitionDays(
      days.map((d) => d.day),
      today,
    )) {
      await this.execute(partitionSql(day));
    }
    await this.execute(`insert into "job_events" ("id", "job_id", "occurred_at", "received_at",
        "enqueued_at", "created_at", "scheduled_at", "duration_ms", "attempt", "retry_count", "pid",
        "client_time", "will_retry", "type", "hostname", "tid", "error_class", "error_message",
        "error_backtrace", "restarted_as", "restarted_from")
      select e.id, j.id, e.occurred_at, e.received_at, e.enqueued_at, e.created_at, e.scheduled_at,
        e.duration_ms, e.attempt, e.retry_count, e.pid, e.client_time, e.will_retry, e.type,
        e.hostname, e.tid, e.error_class, e.error_message, e.error_backtrace, e.restarted_as,
        e.restarted_from
      from "job_events_old" e join "jobs" j on j.instance = e.instance and j.jid = e.jid
      order by e.id;`);
    await this.execute(`drop table "job_events_old";`);
    // a job's events (timeline, the writer's read); ids for the metrics cursor (BRIN: ids follow
    // the order rows are written in, summarised as each range fills); built on the moved rows
    await this.execute(`create index "job_events_job_id_index" on "job_events" ("job_id");`);
    await this.execute(`create index "job_events_id_brin" on "job_events" using brin ("id")
      with (pages_per_range = 32, autosummarize = on);`);

    // jobs: the indexes that earn their place
    await this.execute(`alter table "jobs" add constraint "jobs_jid_instance_unique"
      unique ("jid", "instance");`);
    await this.execute(`create index "jobs_search_index" on "jobs"
      using gin ("job_class", "queue", "status", "arguments" gin_trgm_ops) with (fastupdate = on, gin_pending_list_limit = 256);`);
    await this.execute(`create index "jobs_class_outcome_index" on "jobs"
      ("job_class", (coalesce("completed_at", "failed_at")))
      where "status" in ('succeeded', 'failed', 'dead');`);
    // vacuum often enough that a finished job's first row version is reused, not piled up
    await this.execute(`alter table "jobs" set (autovacuum_vacuum_scale_factor = 0.02,
      autovacuum_vacuum_insert_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02);`);
  }

  override down(): Promise<void> {
    return Promise.reject(
      new Error('Migration20261204000000 (lean storage) cannot be undone; restore a backup'),
    );
  }
}
