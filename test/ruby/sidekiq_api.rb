# frozen_string_literal: true

# Runs one call of Sidekiq's own data API (require "sidekiq/api") and prints the answer as JSON,
# for the conformance tests. Usage: SIDEKIQ_REDIS_URL=... ruby sidekiq_api.rb COMMAND [JSON-ARGS]

require "json"
require_relative "conformance_jobs"
require "sidekiq/api"

cmd = ARGV[0] or abort "usage: sidekiq_api.rb COMMAND [JSON]"
arg = ARGV[1] ? JSON.parse(ARGV[1]) : {}

def time_f(t)
  t&.to_f
end

def record(r)
  {
    "jid" => r.jid, "queue" => r.queue, "class" => r.klass, "display_class" => r.display_class,
    "args" => r.args, "display_args" => r.display_args, "enqueued_at" => time_f(r.enqueued_at),
    "created_at" => time_f(r.created_at), "failed_at" => r.item["failed_at"],
    "retried_at" => r.item["retried_at"], "error_class" => r["error_class"],
    "error_message" => r["error_message"], "error_backtrace" => r.error_backtrace,
    "retry" => r["retry"], "retry_count" => r["retry_count"], "tags" => r.tags, "bid" => r["bid"],
    "latency" => r.latency, "value" => r.value,
    # Ruby's own JSON text of the arguments: exact integers, Floats as Float#to_s
    "args_json" => JSON.generate(r.args), "display_args_json" => JSON.generate(r.display_args)
  }
end

def entry(e)
  # the Web's entry key (job_params): "#{score}-#{jid}", the score a Float
  e && record(e).merge("score" => e.score, "key" => "#{e.score}-#{e.jid}")
end

# Every job of a response of ours (a Hash with display_args), as Ruby's JSON reads it.
def jobs_in(doc, out = {})
  case doc
  when Array then doc.each { |d| jobs_in(d, out) }
  when Hash
    if doc.key?("display_args")
      out[doc["jid"]] = {"args" => JSON.generate(doc["args"]), "display_args" => JSON.generate(doc["display_args"]),
                         "display_args_json" => doc["display_args_json"]}
    end
    doc.each_value { |d| jobs_in(d, out) }
  end
  out
end

BIG = 2**64 + 1

def set_for(name)
  case name
  when "scheduled" then Sidekiq::ScheduledSet.new
  when "retry" then Sidekiq::RetrySet.new
  when "dead" then Sidekiq::DeadSet.new
  else abort "unknown set #{name}"
  end
end

def process_json(p)
  attribs = p.instance_variable_get(:@attribs)
  attribs.merge("stopping" => p.stopping?)
end

# Everything Ruby's API sees, for comparing the state after a change.
def state
  {
    "stats" => begin
      s = Sidekiq::Stats.new
      {"processed" => s.processed, "failed" => s.failed, "scheduled_size" => s.scheduled_size,
       "retry_size" => s.retry_size, "dead_size" => s.dead_size, "processes_size" => s.processes_size,
       "enqueued" => s.enqueued, "workers_size" => s.workers_size}
    end,
    "queues" => Sidekiq::Queue.all.map { |q| [q.name, q.map(&:value)] }.to_h,
    "scheduled" => Sidekiq::ScheduledSet.new.map { |e| [e.score, e.value] },
    "retry" => Sidekiq::RetrySet.new.map { |e| [e.score, e.value] },
    "dead" => Sidekiq::DeadSet.new.map { |e| [e.score, e.value] },
    "processes" => Sidekiq::ProcessSet.new(false).map { |p| p.identity }
  }
end

result = case cmd
when "seed"
  jids = {}
  jids["ok"] = OkJob.perform_async("hello", 1, {"k" => "v"})
  jids["fail"] = 4.times.map { |i| FailJob.perform_async("f#{i}", i.to_f) }
  jids["quick_retry"] = QuickRetryJob.perform_async(42)
  jids["dead"] = 3.times.map { |i| DeadJob.perform_async("d#{i}") }
  jids["slow"] = SlowJob.perform_async(120)
  jids["ok_bulk"] = Sidekiq::Client.push_bulk("class" => OkJob, "args" => [[1], [2], [3]])
  jids["scheduled_far"] = ParkedJob.perform_in(3600, "far")
  jids["scheduled_far_2"] = ParkedJob.perform_in(7200, "far2", {"nested" => [1.0, 2]})
  jids["scheduled_bulk"] = Sidekiq::Client.push_bulk("class" => ParkedJob, "args" => [["b1"], ["b2"]], "at" => Time.now.to_f + 5400)
  jids["parked"] = 5.times.map { |i| ParkedJob.perform_async("p#{i}") }
  jids["parked_tags"] = ParkedJob.set(tags: ["alpha", "beta"]).perform_async("tagged")
  jids["parked_aj"] = Sidekiq::Client.push(
    "class" => "ActiveJob::QueueAdapters::SidekiqAdapter::JobWrapper", "wrapped" => "ReportJob",
    "queue" => "parked",
    "args" => [{"job_class" => "ReportJob", "job_id" => "9b1c1a4e-0000-4000-8000-000000000001",
                "provider_job_id" => nil, "queue_name" => "parked", "priority" => nil,
                "arguments" => [42, {"_aj_globalid" => "gid://app/User/7"}], "executions" => 0,
                "exception_executions" => {}, "locale" => "en", "timezone" => "UTC",
                "enqueued_at" => Time.now.utc.iso8601(3)}],
    "retry" => true
  )
  jids["parked_mailer"] = Sidekiq::Client.push(
    "class" => "ActiveJob::QueueAdapters::SidekiqAdapter::JobWrapper", "wrapped" => "ActionMailer::MailDeliveryJob",
    "queue" => "parked",
    "args" => [{"job_class" => "ActionMailer::MailDeliveryJob", "job_id" => "7f0e",
                "arguments" => ["UserMailer", "welcome", "deliver_now", {"args" => [7, "x"]}], "executions" => 0}],
    "retry" => true
  )
  jids["parked_bid"] = Sidekiq::Client.push("class" => "ParkedJob", "queue" => "parked", "args" => ["in-batch"], "bid" => "fakeBID123")
  jids["parked2"] = ParkedJob.set(queue: "parked2").perform_async("q2")
  jids
when "seed_exact"
  # numbers JavaScript cannot hold, payloads without queue or created_at, a whole-number score
  jids = {}
  jids["exact"] = ParkedJob.perform_async(BIG, 3.0, 1.0e20, -0.0, 0.1, 1.0e-5, {"n" => [2**70, 1.5]})
  jids["exact_scheduled"] = SecureRandom.hex(12)
  Sidekiq::ScheduledSet.new.schedule(Time.at(1924992000),
    {"retry" => true, "queue" => "parked", "class" => "ParkedJob", "args" => [BIG, 3.0], "jid" => jids["exact_scheduled"]})
  jids["exact_retry"] = SecureRandom.hex(12)
  Sidekiq::RetrySet.new.schedule(Time.now.to_f + 7200,
    {"retry" => true, "queue" => "parked", "class" => "ParkedJob", "args" => [BIG, 1.0e20], "jid" => jids["exact_retry"],
     "error_class" => "RuntimeError", "error_message" => "no created_at", "failed_at" => Time.now.to_f, "retry_count" => 0})
  jids["no_queue"] = SecureRandom.hex(12)
  Sidekiq.redis do |c|
    c.lpush("queue:parked", JSON.generate({"class" => "ParkedJob", "args" => [BIG], "jid" => jids["no_queue"],
                                           "created_at" => Time.now.to_f, "enqueued_at" => Time.now.to_f}))
  end
  jids
when "jobs_in"
  jobs_in(JSON.parse(STDIN.read))
when "stats"
  s = Sidekiq::Stats.new
  {"processed" => s.processed, "failed" => s.failed, "scheduled_size" => s.scheduled_size,
   "retry_size" => s.retry_size, "dead_size" => s.dead_size, "processes_size" => s.processes_size,
   "default_queue_latency" => s.default_queue_latency, "workers_size" => s.workers_size,
   "enqueued" => s.enqueued}
when "queues"
  Sidekiq::Queue.all.map { |q| {"name" => q.name, "size" => q.size, "latency" => q.latency} }
when "queue_jobs"
  q = Sidekiq::Queue.new(arg["name"])
  q.first(arg.fetch("count", 25)).map { |r| record(r) }
when "queue_find"
  r = Sidekiq::Queue.new(arg["name"]).find_job(arg["jid"])
  r && record(r)
when "set_each"
  set_for(arg["set"]).map { |e| entry(e) }
when "set_find"
  entry(set_for(arg["set"]).find_job(arg["jid"]))
when "set_scan"
  set_for(arg["set"]).scan(arg["match"]).map { |e| entry(e) }
when "processes"
  Sidekiq::ProcessSet.new.map { |p| process_json(p) }
when "workers"
  Sidekiq::WorkSet.new.map { |pid, tid, work| {"process" => pid, "thread" => tid, "work" => work} }
when "history"
  h = Sidekiq::Stats::History.new(arg["days"], Date.parse(arg["start"]))
  {"processed" => h.processed, "failed" => h.failed}
when "state"
  state
# ---- changes (each returns nothing interesting; the test compares `state` afterwards)
when "queue_delete"
  Sidekiq::Queue.new(arg["name"]).find_job(arg["jid"]).delete
when "queue_clear"
  Sidekiq::Queue.new(arg["name"]).clear
when "entry_delete"
  set_for(arg["set"]).find_job(arg["jid"]).delete
when "entry_retry"
  set_for(arg["set"]).find_job(arg["jid"]).retry
when "entry_add_to_queue"
  set_for(arg["set"]).find_job(arg["jid"]).add_to_queue
when "entry_kill"
  set_for(arg["set"]).find_job(arg["jid"]).kill
when "retry_all"
  set_for(arg["set"]).retry_all
when "kill_all"
  set_for(arg["set"]).kill_all
when "set_clear"
  set_for(arg["set"]).clear
when "stats_reset"
  Sidekiq::Stats.new.reset
when "quiet"
  Sidekiq::Process.new("identity" => arg["identity"]).quiet!
else
  abort "unknown command #{cmd}"
end

puts JSON.generate(result)
