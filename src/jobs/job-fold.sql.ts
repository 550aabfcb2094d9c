// The job row as a pure function of its set of events. Ordering only ever uses event content
// (attempt, lifecycle rank, occurred_at, dedupe_key), never arrival order, so any order of the
// same events yields the same row. $1/$2: instance[] and jid[] of the jobs to recompute.
//
// rank orders the phases within one attempt: scheduled < queued < started = interrupted <
// succeeded = failed < retrying < dead. attempt = retry_count + 1 (0 on the first run), so a
// retried job's new run outranks the failure before it.
// One GROUP BY, no joins between CTEs (a nested loop over CTE scans made the fold quadratic in
// the group size). "Latest" fields use array_agg with one shared ORDER BY, which is total within a
// job ((instance, jid, dedupe_key) is unique), so hostname, pid and tid come from the same event.
const LATEST = 'order by attempt desc, rank desc, occurred_at desc, dedupe_key desc';
const RUN_LATEST = 'order by attempt desc, occurred_at desc, rank desc, dedupe_key desc';
const FIRST = 'order by occurred_at, rank, dedupe_key';
const WORKER = `filter (where type in ('started', 'succeeded', 'failed', 'interrupted')
    and (hostname is not null or pid is not null or tid is not null))`;
const ERROR = `filter (where type in ('failed', 'dead', 'retrying') and error_class is not null)`;

export const FOLD_JOBS_SQL = `
with keys as (
  select distinct instance, jid from unnest($1::text[], $2::text[]) as k(instance, jid)
), ev as (
  select e.instance, e.jid, e.type, e.dedupe_key, e.occurred_at, e.attempt, e.job_class, e.queue,
    e.arguments, e.payload, e.created_at, e.scheduled_at, e.hostname, e.pid, e.tid, e.error_class,
    e.error_message, e.error_backtrace, e.will_retry, e.duration_ms,
    case e.type when 'scheduled' then 0 when 'queued' then 1 when 'started' then 2
      when 'interrupted' then 2 when 'succeeded' then 3 when 'failed' then 3
      when 'retrying' then 4 when 'dead' then 5 end as rank
  from job_events e join keys k on e.instance = k.instance and e.jid = k.jid
)
insert into jobs (instance, jid, job_class, queue, arguments, payload, status, attempt, created_at,
  enqueued_at, scheduled_at, started_at, completed_at, failed_at, hostname, pid, tid, error_class,
  error_message, error_backtrace, will_retry, duration_ms, event_count, first_event_at, last_event_at,
  updated_at)
select instance, jid,
  (array_agg(job_class ${FIRST}) filter (where job_class is not null))[1],
  (array_agg(queue ${FIRST}) filter (where queue is not null))[1],
  (array_agg(arguments ${FIRST}) filter (where arguments is not null))[1],
  (array_agg(payload ${FIRST}) filter (where payload is not null))[1],
  (array_agg(case type when 'started' then 'running'
     when 'failed' then case when will_retry then 'retrying' else 'failed' end
     else type end ${LATEST}))[1],
  max(attempt),
  least(min(created_at), min(occurred_at)),
  min(occurred_at) filter (where type = 'queued'),
  max(scheduled_at),
  max(occurred_at) filter (where type = 'started'),
  max(occurred_at) filter (where type = 'succeeded'),
  max(occurred_at) filter (where type in ('failed', 'dead')),
  (array_agg(hostname ${RUN_LATEST}) ${WORKER})[1],
  (array_agg(pid ${RUN_LATEST}) ${WORKER})[1],
  (array_agg(tid ${RUN_LATEST}) ${WORKER})[1],
  (array_agg(error_class ${LATEST}) ${ERROR})[1],
  (array_agg(error_message ${LATEST}) ${ERROR})[1],
  (array_agg(error_backtrace ${LATEST}) ${ERROR})[1],
  (array_agg(case type when 'retrying' then true when 'dead' then false else will_retry end
     ${LATEST}) ${ERROR})[1],
  (array_agg(duration_ms ${LATEST}) filter (where duration_ms is not null))[1],
  count(*)::int, min(occurred_at), max(occurred_at), now()
from ev group by instance, jid
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
  hostname, pid, tid, error_class, error_message, error_backtrace, will_retry, duration_ms)
select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[],
  $6::boolean[], $7::int[], $8::int[], $9::text[], $10::text[], $11::text[], $12::text[],
  $13::timestamptz[], $14::timestamptz[], $15::timestamptz[], $16::text[], $17::int[], $18::text[],
  $19::text[], $20::text[], $21::jsonb[], $22::boolean[], $23::float8[])
on conflict (instance, jid, dedupe_key) do nothing
returning instance, jid, dedupe_key
`;
