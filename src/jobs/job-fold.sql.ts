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

// Writes folded rows (job-fold.ts); one row per job, every column replaced.
export const UPSERT_JOBS_SQL = `
insert into jobs (instance, jid, job_class, queue, arguments, payload, status, attempt, created_at,
  enqueued_at, scheduled_at, started_at, completed_at, failed_at, hostname, pid, tid, error_class,
  error_message, error_backtrace, will_retry, duration_ms, restarted_as, restarted_from, event_count,
  first_event_at, last_event_at, updated_at)
select r.instance, r.jid, r.job_class, r.queue, r.arguments,
  (select e.payload from job_events e
    where e.instance = r.instance and e.jid = r.jid and e.dedupe_key = r.payload_from),
  r.status, r.attempt, r.created_at, r.enqueued_at, r.scheduled_at, r.started_at, r.completed_at,
  r.failed_at, r.hostname, r.pid, r.tid, r.error_class, r.error_message, r.error_backtrace,
  r.will_retry, r.duration_ms, r.restarted_as, r.restarted_from, r.event_count, r.first_event_at,
  r.last_event_at, now()
from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
  $8::int[], $9::timestamptz[], $10::timestamptz[], $11::timestamptz[], $12::timestamptz[],
  $13::timestamptz[], $14::timestamptz[], $15::text[], $16::int[], $17::text[], $18::text[],
  $19::text[], $20::jsonb[], $21::boolean[], $22::float8[], $23::int[], $24::timestamptz[],
  $25::timestamptz[], $26::text[], $27::text[])
  as r(instance, jid, job_class, queue, arguments, payload_from, status, attempt, created_at,
    enqueued_at, scheduled_at, started_at, completed_at, failed_at, hostname, pid, tid, error_class,
    error_message, error_backtrace, will_retry, duration_ms, event_count, first_event_at,
    last_event_at, restarted_as, restarted_from)
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

export const INSERT_EVENTS_SQL = `
insert into job_events (instance, jid, type, dedupe_key, occurred_at, client_time, attempt,
  retry_count, job_class, queue, arguments, payload, enqueued_at, created_at, scheduled_at,
  hostname, pid, tid, error_class, error_message, error_backtrace, will_retry, duration_ms,
  restarted_as, restarted_from)
select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[],
  $6::boolean[], $7::int[], $8::int[], $9::text[], $10::text[], $11::text[], $12::text[],
  $13::timestamptz[], $14::timestamptz[], $15::timestamptz[], $16::text[], $17::int[], $18::text[],
  $19::text[], $20::text[], $21::jsonb[], $22::boolean[], $23::float8[], $24::text[], $25::text[])
on conflict (instance, jid, dedupe_key) do nothing
returning instance, jid, dedupe_key
`;
