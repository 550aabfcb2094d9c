# frozen_string_literal: true

# The Ruby side of `npm run bench:sidekiq-api`: Sidekiq's own data API (require "sidekiq/api",
# and the Web's paginator for pages) timed on the same Redis, in one process (no start-up time).
# Usage: SIDEKIQ_REDIS_URL=... ruby bench/sidekiq-api.rb '{"iterations":20,"slow_iterations":3,"jid_retry":"…","jid_queue":"…"}'

require "json"
require "sidekiq"
require "sidekiq/api"
require "sidekiq/paginator"

Sidekiq.configure_client { |c| c.redis = {url: ENV.fetch("SIDEKIQ_REDIS_URL"), size: 1} }
opts = JSON.parse(ARGV[0] || "{}")
include Sidekiq::Paginator

def time_ms(iterations, warmup)
  warmup.times { yield }
  samples = iterations.times.map do
    t0 = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    yield
    (Process.clock_gettime(Process::CLOCK_MONOTONIC) - t0) * 1000.0
  end.sort
  {"median_ms" => samples[samples.size / 2], "min_ms" => samples.first, "runs" => iterations}
end

# what the Web's queue page shows: size, latency, and a page of decoded records
def queue_page(name)
  q = Sidekiq::Queue.new(name)
  _, total, items = page("queue:#{name}", 1, 25)
  records = items.map { |m| Sidekiq::JobRecord.new(m, name) }
  records.each { |r| [r.jid, r.display_class, r.display_args, r.enqueued_at, r.created_at] }
  [q.size, q.latency, total, records.size]
end

def set_page(key)
  _, total, items = page(key, 1, 25)
  entries = items.map { |msg, score| Sidekiq::SortedEntry.new(nil, score, msg) }
  entries.each { |e| [e.jid, e.display_class, e.display_args, e.at, e["error_class"], e.error_backtrace] }
  [total, entries.size]
end

n = opts.fetch("iterations", 20)
slow = opts.fetch("slow_iterations", 5)
out = {}
out["stats"] = time_ms(n, 2) do
  s = Sidekiq::Stats.new
  [s.processed, s.failed, s.scheduled_size, s.retry_size, s.dead_size, s.processes_size,
   s.default_queue_latency, s.workers_size, s.enqueued]
end
out["queue_list"] = time_ms(n, 2) { Sidekiq::Queue.all.map { |q| [q.name, q.size, q.latency] } }
out["largest_queue_page"] = time_ms(n, 2) { queue_page(opts.fetch("largest_queue")) }
out["small_queue_page"] = time_ms(n, 2) { queue_page(opts.fetch("small_queue")) }
out["retry_page"] = time_ms(n, 2) { set_page("retry") }
out["jid_in_retry_set"] = time_ms(slow, 1) do
  Sidekiq::RetrySet.new.find_job(opts.fetch("jid_retry")) or raise "not found"
end
out["missing_jid_in_retry_set"] = time_ms(slow, 1) do
  Sidekiq::RetrySet.new.find_job("f" * 24) and raise "found?"
end
out["jid_in_largest_queue"] = time_ms(slow, 0) do
  Sidekiq::Queue.new(opts.fetch("largest_queue")).find_job(opts.fetch("jid_queue")) or raise "not found"
end
puts JSON.generate(out)
