// The job row as a pure function of its set of events. Ordering only ever uses event content
// (attempt, lifecycle rank, occurred_at, dedupe_key), never arrival order, so any order of the
// same events yields the same row. $1/$2: instance[] and jid[] of the jobs to recompute.
//
// rank orders the phases within one attempt: scheduled < queued < started = interrupted <
// succeeded = failed < retrying < dead. attempt = retry_count + 1 (0 on the first run), so a
// retried job's new run outranks the failure before it.
export const FOLD_JOBS_SQL = `
with keys as (
  select distinct instance, jid from unnest($1::text[], $2::text[]) as k(instance, jid)
), ev as (
  select e.*,
    case e.type when 'scheduled' then 0 when 'queued' then 1 when 'started' then 2
      when 'interrupted' then 2 when 'succeeded' then 3 when 'failed' then 3
      when 'retrying' then 4 when 'dead' then 5 end as rank,
    case e.type when 'started' then 'running'
      when 'failed' then case when e.will_retry then 'retrying' else 'failed' end
      else e.type end as derived_status
  from job_events e join keys k on e.instance = k.instance and e.jid = k.jid
), agg as (
  select instance, jid,
    (array_agg(job_class order by occurred_at, rank, dedupe_key) filter (where job_class is not null))[1] as job_class,
    (array_agg(queue order by occurred_at, rank, dedupe_key) filter (where queue is not null))[1] as queue,
    (array_agg(arguments order by occurred_at, rank, dedupe_key) filter (where arguments is not null))[1] as arguments,
    (array_agg(payload order by occurred_at, rank, dedupe_key) filter (where payload is not null))[1] as payload,
    max(attempt) as attempt,
    least(min(created_at), min(occurred_at)) as created_at,
    min(occurred_at) filter (where type = 'queued') as enqueued_at,
    max(scheduled_at) as scheduled_at,
    max(occurred_at) filter (where type = 'started') as started_at,
    max(occurred_at) filter (where type = 'succeeded') as completed_at,
    max(occurred_at) filter (where type in ('failed', 'dead')) as failed_at,
    count(*)::int as event_count,
    min(occurred_at) as first_event_at,
    max(occurred_at) as last_event_at
  from ev group by instance, jid
), latest as (
  select distinct on (instance, jid) instance, jid, derived_status as status
  from ev order by instance, jid, attempt desc, rank desc, occurred_at desc, dedupe_key desc
), worker as (
  select distinct on (instance, jid) instance, jid, hostname, pid, tid
  from ev where type in ('started', 'succeeded', 'failed', 'interrupted')
    and (hostname is not null or pid is not null or tid is not null)
  order by instance, jid, attempt desc, occurred_at desc, rank desc, dedupe_key desc
), err as (
  select distinct on (instance, jid) instance, jid, error_class, error_message, error_backtrace,
    case type when 'retrying' then true when 'dead' then false else will_retry end as will_retry
  from ev where type in ('failed', 'dead', 'retrying') and error_class is not null
  order by instance, jid, attempt desc, rank desc, occurred_at desc, dedupe_key desc
), dur as (
  select distinct on (instance, jid) instance, jid, duration_ms
  from ev where duration_ms is not null
  order by instance, jid, attempt desc, rank desc, occurred_at desc, dedupe_key desc
)
insert into jobs (instance, jid, job_class, queue, arguments, payload, status, attempt, created_at,
  enqueued_at, scheduled_at, started_at, completed_at, failed_at, hostname, pid, tid, error_class,
  error_message, error_backtrace, will_retry, duration_ms, event_count, first_event_at, last_event_at,
  updated_at)
select a.instance, a.jid, a.job_class, a.queue, a.arguments, a.payload, l.status, a.attempt,
  a.created_at, a.enqueued_at, a.scheduled_at, a.started_at, a.completed_at, a.failed_at,
  w.hostname, w.pid, w.tid, r.error_class, r.error_message, r.error_backtrace, r.will_retry,
  d.duration_ms, a.event_count, a.first_event_at, a.last_event_at, now()
from agg a
join latest l on l.instance = a.instance and l.jid = a.jid
left join worker w on w.instance = a.instance and w.jid = a.jid
left join err r on r.instance = a.instance and r.jid = a.jid
left join dur d on d.instance = a.instance and d.jid = a.jid
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
