// Every Lua script sent to Sidekiq's Redis. A script runs whole or not at all, which is why the
// changes below are scripts: the stores pass keys and arguments in the order each header gives.

// LRANGE, ZRANGE or ZREVRANGE WITHSCORES, or LINDEX, with every member over ARGV[4] bytes replaced
// by {size, first and last ARGV[5] bytes}: a page holds at most per_page × the limit whatever
// Sidekiq stores, and Redis does no more than cut strings. KEYS: the list or set; ARGV: mode
// (list | zrange | zrevrange | index), start (or index), stop, limit, clip.
export const CLIPPED_READ_LUA = `
local mode, limit, clip = ARGV[1], tonumber(ARGV[4]), tonumber(ARGV[5])
local function cut(v)
  if v and #v > limit then
    return { tostring(#v), string.sub(v, 1, clip), string.sub(v, -clip) }
  end
  return v
end
if mode == 'index' then
  return cut(redis.call('LINDEX', KEYS[1], ARGV[2]))
end
local items, step
if mode == 'list' then
  items, step = redis.call('LRANGE', KEYS[1], ARGV[2], ARGV[3]), 1
elseif mode == 'zrevrange' then
  items, step = redis.call('ZREVRANGE', KEYS[1], ARGV[2], ARGV[3], 'WITHSCORES'), 2
else
  items, step = redis.call('ZRANGE', KEYS[1], ARGV[2], ARGV[3], 'WITHSCORES'), 2
end
for i = 1, #items, step do
  items[i] = cut(items[i])
end
return items
`;

// Take exact members out of a sorted set and push their new payloads to their queues, atomically per
// call. Same end state as Sidekiq's remove_job + Client.push (model §12 rule 4), without the window in
// which same-score siblings are missing. KEYS: set, queues, queue:<q>…; ARGV: n, then per move
// raw, queue name, payload, index of its queue key (1-based among KEYS[3..]).
export const MOVE_TO_QUEUE_LUA = `
local moved = 0
local n = tonumber(ARGV[1])
for i = 0, n - 1 do
  local raw, name, payload, qk = ARGV[2 + i * 4], ARGV[3 + i * 4], ARGV[4 + i * 4], tonumber(ARGV[5 + i * 4])
  if redis.call('ZREM', KEYS[1], raw) == 1 then
    redis.call('SADD', KEYS[2], name)
    redis.call('LPUSH', KEYS[2 + qk], payload)
    moved = moved + 1
  end
end
return moved`;

// Move exact members into the dead set, each with its time of death as score, then trim as
// DeadSet#kill does (ZREMRANGEBYSCORE -inf now−timeout, ZREMRANGEBYRANK 0 −max).
// KEYS: set, dead; ARGV: cutoff, max, then score and raw per member.
export const KILL_LUA = `
local killed = 0
for i = 3, #ARGV, 2 do
  local raw = ARGV[i + 1]
  local present = 1
  if KEYS[1] ~= KEYS[2] then present = redis.call('ZREM', KEYS[1], raw) end
  if present == 1 then
    redis.call('ZADD', KEYS[2], ARGV[i], raw)
    killed = killed + 1
  end
end
if killed > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -tonumber(ARGV[2]))
end
return killed`;

// sidekiq-cron Job#enable! / #disable! on an existing job only (the gem saves the whole hash; the
// status field is the only one that changes). KEYS: cron_job:<name>; ARGV: status. Returns 1, or 0
// when the job is gone.
export const CRON_SET_STATUS_LUA = `
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
redis.call('HSET', KEYS[1], 'status', ARGV[1])
return 1
`;

// sidekiq-cron Job#enque! for an existing job: Client.push (SADD queues, LPUSH queue), then
// save_last_enqueue_time and add_jid_history (LPUSH, LTRIM to cron_history_size). KEYS: cron_job:<name>,
// queues, queue:<q>, cron_job:<name>:jid_history; ARGV: queue name, payload, last_enqueue_time,
// history entry JSON, history size − 1. Returns 1, or 0 when the job is gone.
export const CRON_ENQUEUE_LUA = `
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('LPUSH', KEYS[3], ARGV[2])
redis.call('HSET', KEYS[1], 'last_enqueue_time', ARGV[3])
redis.call('LPUSH', KEYS[4], ARGV[4])
redis.call('LTRIM', KEYS[4], 0, tonumber(ARGV[5]))
return 1
`;

// sidekiq-scheduler's toggle (Scheduler#toggle_job_enabled / #toggle_all_jobs: set_job_state, one
// HSET of the state JSON) for a schedule that exists, and only if its state is still the one read
// (another toggle in between would be undone). KEYS: schedules, sidekiq-scheduler:states; ARGV:
// name, the state read ("" for none), the new state. Returns 1; 0 when the schedule is gone; -1
// when the state changed since it was read.
export const SCHEDULER_SET_STATE_LUA = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then
  return 0
end
local current = redis.call('HGET', KEYS[2], ARGV[1])
if (current or '') ~= ARGV[2] then
  return -1
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
return 1
`;

// sidekiq-scheduler's "Enqueue now" for a schedule that exists: Sidekiq::Client.push (SADD queues,
// LPUSH queue); the gem writes nothing of its own (last_times is the scheduler's trigger only).
// KEYS: schedules, queues, queue:<q>; ARGV: name, queue name, payload. Returns 1, or 0 when the
// schedule is gone.
export const SCHEDULER_PUSH_LUA = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then
  return 0
end
redis.call('SADD', KEYS[2], ARGV[2])
redis.call('LPUSH', KEYS[3], ARGV[3])
return 1
`;
