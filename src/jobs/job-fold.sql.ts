// The events of the jobs to refold, with times as integer microseconds (a JS Date would drop the
// microseconds). The payload stays in Postgres: the upsert copies it by dedupe key.
export const SELECT_EVENTS_SQL = `
select e.instance, e.jid, e.type, e.dedupe_key,
  (extract(epoch from e.occurred_at) * 1000000)::int8 as occurred_us,
  e.attempt, e.job_class, e.queue, e.arguments, e.payload is not null as has_payload,
  (extract(epoch from e.created_at) * 1000000)::int8 as created_us,
  (extract(epoch from e.scheduled_at) * 1000000)::int8 as scheduled_us,
  e.hostname, e.pid, e.tid, e.error_class, e.error_message, e.error_backtrace::text as error_backtrace,
  e.will_retry, e.duration_ms, e.restarted_as, e.restarted_from
from job_events e
join (select distinct instance, jid from unnest($1::text[], $2::text[]) as k(instance, jid)) k
  on e.instance = k.instance and e.jid = k.jid
`;

// Writes folded rows (job-fold.ts); one row per job, every column replaced. $1 is a JSON array of
// FoldedRow objects (a single JSON parameter: JSON.stringify is far cheaper than building 27
// Postgres array literals).
export const UPSERT_JOBS_SQL = `
insert into jobs (instance, jid, job_class, queue, arguments, payload, status, attempt, created_at,
  enqueued_at, scheduled_at, started_at, completed_at, failed_at, hostname, pid, tid, error_class,
  error_message, error_backtrace, will_retry, duration_ms, restarted_as, restarted_from, event_count,
  first_event_at, last_event_at, updated_at)
select r."instance", r."jid", r."jobClass", r."queue", r."arguments",
  case when r."payloadFrom" is not null then (select e.payload from job_events e
    where e.instance = r."instance" and e.jid = r."jid" and e.dedupe_key = r."payloadFrom") end,
  r."status", r."attempt", r."createdAt", r."enqueuedAt", r."scheduledAt", r."startedAt",
  r."completedAt", r."failedAt", r."hostname", r."pid", r."tid", r."errorClass", r."errorMessage",
  r."errorBacktrace"::jsonb, r."willRetry", r."durationMs", r."restartedAs", r."restartedFrom",
  r."eventCount", r."firstEventAt", r."lastEventAt", now()
from json_to_recordset($1::json) as r("instance" text, "jid" text, "jobClass" text, "queue" text,
  "arguments" text, "payloadFrom" text, "status" text, "attempt" int, "createdAt" timestamptz,
  "enqueuedAt" timestamptz, "scheduledAt" timestamptz, "startedAt" timestamptz,
  "completedAt" timestamptz, "failedAt" timestamptz, "hostname" text, "pid" int, "tid" text,
  "errorClass" text, "errorMessage" text, "errorBacktrace" text, "willRetry" boolean,
  "durationMs" float8, "restartedAs" text, "restartedFrom" text, "eventCount" int,
  "firstEventAt" timestamptz, "lastEventAt" timestamptz)
on conflict (instance, jid) do update set
  job_class = excluded.job_class, queue = excluded.queue, arguments = excluded.arguments,
  payload = excluded.payload, status = excluded.status, attempt = excluded.attempt,
  created_at = excluded.created_at, enqueued_at = excluded.enqueued_at,
  scheduled_at = excluded.scheduled_at, started_at = excluded.started_at,
  completed_at = excluded.completed_at, failed_at = excluded.failed_at,
  hostname = excluded.hostname, pid = excluded.pid, tid = excluded.tid,
  error_class = excluded.error_class, error_message = excluded.error_message,
  error_backtrace = excluded.error_backtrace, will_retry = excluded.will_retry,
  duration_ms = excluded.duration_ms, event_count = excluded.event_count,
  first_event_at = excluded.first_event_at, last_event_at = excluded.last_event_at,
  restarted_as = excluded.restarted_as, restarted_from = excluded.restarted_from,
  updated_at = excluded.updated_at
`;

// Serialises writers per job across connections and service copies; taken in sorted order so
// two transactions never wait on each other in a cycle.
export const LOCK_JOBS_SQL = `
select count(pg_advisory_xact_lock(h)) from (
  select distinct hashtextextended(instance || '/' || jid, 0) as h
  from unnest($1::text[], $2::text[]) as k(instance, jid) order by h
) s
`;

// $1: JSON array of IngestEvent objects, stored as they are (errorBacktrace is JSON text).
export const INSERT_EVENTS_SQL = `
insert into job_events (instance, jid, type, dedupe_key, occurred_at, client_time, attempt,
  retry_count, job_class, queue, arguments, payload, enqueued_at, created_at, scheduled_at,
  hostname, pid, tid, error_class, error_message, error_backtrace, will_retry, duration_ms,
  restarted_as, restarted_from)
select e."instance", e."jid", e."type", e."dedupeKey", e."occurredAt", e."clientTime", e."attempt",
  e."retryCount", e."jobClass", e."queue", e."arguments", e."payload", e."enqueuedAt", e."createdAt",
  e."scheduledAt", e."hostname", e."pid", e."tid", e."errorClass", e."errorMessage",
  e."errorBacktrace"::jsonb, e."willRetry", e."durationMs", e."restartedAs", e."restartedFrom"
from json_to_recordset($1::json) as e("instance" text, "jid" text, "type" text, "dedupeKey" text,
  "occurredAt" timestamptz, "clientTime" boolean, "attempt" int, "retryCount" int, "jobClass" text,
  "queue" text, "arguments" text, "payload" text, "enqueuedAt" timestamptz, "createdAt" timestamptz,
  "scheduledAt" timestamptz, "hostname" text, "pid" int, "tid" text, "errorClass" text,
  "errorMessage" text, "errorBacktrace" text, "willRetry" boolean, "durationMs" float8,
  "restartedAs" text, "restartedFrom" text)
on conflict (instance, jid, dedupe_key) do nothing
returning instance, jid, dedupe_key
`;
