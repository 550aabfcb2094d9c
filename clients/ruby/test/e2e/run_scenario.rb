# frozen_string_literal: true

# End-to-end harness: a real Sidekiq server process + this process as a producer, both reporting to a
# Supervisor service. Writes a JSON manifest {jid -> expected final status and expected events in order}.
#
#   SIDEKIQ_SUPERVISOR_URL=http://127.0.0.1:3000 SIDEKIQ_SUPERVISOR_TOKEN=... REDIS_URL=redis://127.0.0.1:56379/0 \
#     ruby clients/ruby/test/e2e/run_scenario.rb [--mode sync|async] [--manifest FILE] [--timeout SECONDS]
#                                                [--queue NAME] [--flush-redis] [--fast-retries]
#
# Environment (flags win): SIDEKIQ_SUPERVISOR_MODE, SUPERVISOR_E2E_MANIFEST, SUPERVISOR_E2E_TIMEOUT (60),
# SUPERVISOR_E2E_QUEUE (default), SUPERVISOR_E2E_FLUSH_REDIS=1, SUPERVISOR_E2E_FAST_RETRIES=1,
# SIDEKIQ_BIN (default: sidekiq on PATH), SIDEKIQ_SUPERVISOR_INSTANCE.
#
# stdout: the manifest JSON only (also written to --manifest FILE when given). stderr: progress and, on
# failure, the tail of Sidekiq's log.
# Exit status: 0 all jobs settled and Sidekiq stopped cleanly; 1 timeout / Sidekiq failure; 2 bad usage.
#
# --flush-redis runs FLUSHDB on REDIS_URL's database first (use a throwaway database).
# --fast-retries moves this run's jobs from the retry set to their queue as soon as they land there
# (Sidekiq's "retry now"; the client middleware in this process reports that re-enqueue) instead of
# waiting out Sidekiq 6's retry jitter (up to 10 s per retry).

require "json"
require "optparse"
require "securerandom"
require "tmpdir"
require "rbconfig"
require "sidekiq/api"

STDOUT.sync = true
STDERR.sync = true

opts = {
  mode: ENV["SIDEKIQ_SUPERVISOR_MODE"] || "sync",
  manifest: ENV["SUPERVISOR_E2E_MANIFEST"],
  timeout: (ENV["SUPERVISOR_E2E_TIMEOUT"] || 60).to_f,
  queue: ENV["SUPERVISOR_E2E_QUEUE"] || "default",
  flush: ENV["SUPERVISOR_E2E_FLUSH_REDIS"] == "1",
  fast_retries: ENV["SUPERVISOR_E2E_FAST_RETRIES"] == "1",
  concurrency: 2
}
begin
  OptionParser.new do |o|
    o.on("--mode MODE", %w[sync async]) { |v| opts[:mode] = v }
    o.on("--manifest FILE") { |v| opts[:manifest] = v }
    o.on("--timeout SECONDS", Float) { |v| opts[:timeout] = v }
    o.on("--queue NAME") { |v| opts[:queue] = v }
    o.on("--flush-redis") { opts[:flush] = true }
    o.on("--fast-retries") { opts[:fast_retries] = true }
    o.on("--concurrency N", Integer) { |v| opts[:concurrency] = v }
  end.parse!(ARGV)
rescue OptionParser::ParseError => e
  warn "run_scenario: #{e.message}"
  exit 2
end

missing = %w[SIDEKIQ_SUPERVISOR_URL SIDEKIQ_SUPERVISOR_TOKEN REDIS_URL].select { |k| ENV[k].to_s.strip.empty? }
unless missing.empty?
  warn "run_scenario: missing environment: #{missing.join(", ")}"
  exit 2
end
unless %w[sync async].include?(opts[:mode])
  warn "run_scenario: mode must be sync or async"
  exit 2
end
ENV["SIDEKIQ_SUPERVISOR_MODE"] = opts[:mode]
ENV["SIDEKIQ_SUPERVISOR_ENABLED"] = "true"

def log(msg)
  warn "[e2e #{Time.now.utc.strftime("%H:%M:%S.%L")}] #{msg}"
end

def mono
  Process.clock_gettime(Process::CLOCK_MONOTONIC)
end

APP = File.expand_path("app.rb", __dir__)
require "sidekiq"
require "logger"
Sidekiq.logger = Logger.new($stderr) # stdout carries the manifest only
Redis.silence_deprecations = true if defined?(Redis) && Redis.respond_to?(:silence_deprecations=)
require APP # producer side: job classes, Redis config, Sidekiq::Supervisor.install! (client middleware)
Sidekiq.logger.level = Logger::WARN

run_id = SecureRandom.hex(6)
state_dir = Dir.mktmpdir("supervisor-e2e-")
sidekiq_log = File.join(state_dir, "sidekiq.log")
queue = opts[:queue]
t_start = mono
sidekiq_pid = nil
sidekiq_status = nil
exit_code = 1
manifest = nil

stop_sidekiq = lambda do |grace|
  next unless sidekiq_pid && sidekiq_status.nil?
  begin
    Process.kill("TERM", sidekiq_pid)
  rescue Errno::ESRCH
    nil
  end
  deadline = mono + grace
  while mono < deadline
    _, st = Process.waitpid2(sidekiq_pid, Process::WNOHANG)
    if st
      sidekiq_status = st
      break
    end
    sleep 0.05
  end
  if sidekiq_status.nil?
    log "Sidekiq #{sidekiq_pid} did not stop within #{grace}s; sending KILL"
    begin
      Process.kill("KILL", sidekiq_pid)
    rescue Errno::ESRCH
      nil
    end
    _, sidekiq_status = Process.waitpid2(sidekiq_pid)
  end
end

%w[INT TERM].each do |sig|
  trap(sig) do
    Thread.new do
      stop_sidekiq.call(3)
      exit!(130)
    end
  end
end

begin
  Sidekiq.redis do |c|
    c.ping
    c.flushdb if opts[:flush]
  end

  # ---------------------------------------------------------------- start Sidekiq
  sidekiq_bin = ENV["SIDEKIQ_BIN"] || "sidekiq"
  cmd = [sidekiq_bin, "-r", APP, "-c", opts[:concurrency].to_s, "-q", queue, "-t", "5"]
  child_env = {"SUPERVISOR_E2E_STATE_DIR" => state_dir, "SIDEKIQ_SUPERVISOR_MODE" => opts[:mode],
               "SIDEKIQ_SUPERVISOR_ENABLED" => "true"}
  log "starting #{cmd.join(" ")} (mode #{opts[:mode]}, log #{sidekiq_log})"
  sidekiq_pid = Process.spawn(child_env, *cmd, out: sidekiq_log, err: sidekiq_log, in: File::NULL)
  ready = File.join(state_dir, "ready.json")
  deadline = mono + [opts[:timeout], 30].min
  until File.exist?(ready)
    _, st = Process.waitpid2(sidekiq_pid, Process::WNOHANG)
    if st
      sidekiq_status = st
      raise "Sidekiq exited during boot (#{st.inspect})"
    end
    raise "Sidekiq not ready after #{[opts[:timeout], 30].min}s" if mono > deadline
    sleep 0.05
  end
  log "Sidekiq #{sidekiq_pid} ready after #{(mono - t_start).round(2)}s"

  # ---------------------------------------------------------------- enqueue
  jobs = {}
  add = lambda do |jid, scenario, klass, args, status, details, twin_of = nil|
    raise "push failed for #{scenario}" unless jid
    jobs[jid] = {
      "scenario" => scenario, "class" => klass.name, "queue" => queue, "arguments" => JSON.generate(args),
      "expected_status" => status, "expected_events" => details.map { |d| d["type"] },
      "expected_event_details" => details, "marked" => twin_of.nil?
    }
    jobs[jid]["twin_of"] = twin_of if twin_of
  end
  q = ->(type, extra = {}) { {"type" => type}.merge(extra) }
  push = ->(klass, args, extra = {}) { Sidekiq::Client.push({"class" => klass, "args" => args, "queue" => queue}.merge(extra)) }
  # The same job once more, run without the supervisor's mark (SupervisorE2E::Unmark): its runs
  # send their full data, and the service must show both jobs alike.
  push_twin = lambda do |marked_jid, scenario, klass, args|
    jid = SecureRandom.hex(12)
    Sidekiq.redis { |c| c.sadd(SupervisorE2E::UNMARKED, jid) }
    marked = jobs.fetch(marked_jid)
    add.call(push.call(klass, args, "jid" => jid), "#{scenario}_unmarked", klass, args, marked["expected_status"],
      marked["expected_event_details"], marked_jid)
  end

  args = [run_id, "ok", "ünïcødé <&> \"quoted\"", {"nested" => [1, 2.5, nil, true]}]
  ok_jid = push.call(SupervisorE2E::OkJob, args)
  add.call(ok_jid, "succeeds", SupervisorE2E::OkJob, args, "succeeded",
    [q.("queued"), q.("started"), q.("succeeded")])
  push_twin.call(ok_jid, "succeeds", SupervisorE2E::OkJob, args)

  args = [run_id]
  flaky_jid = push.call(SupervisorE2E::FlakyJob, args)
  add.call(flaky_jid, "fails_then_retries_then_succeeds", SupervisorE2E::FlakyJob, args,
    "succeeded",
    [q.("queued"), q.("started"), q.("failed", "will_retry" => true), q.("retrying", "retry_count" => 0),
      q.("queued", "retry_count" => 0), q.("started", "retry_count" => 0), q.("succeeded", "retry_count" => 0)])
  push_twin.call(flaky_jid, "fails_then_retries_then_succeeds", SupervisorE2E::FlakyJob, args)

  add.call(push.call(SupervisorE2E::DieJob, args), "dies_retry_0", SupervisorE2E::DieJob, args, "dead",
    [q.("queued"), q.("started"), q.("failed", "will_retry" => false), q.("dead", "retry_count" => 0)])

  add.call(push.call(SupervisorE2E::ExhaustJob, args), "dies_retries_exhausted", SupervisorE2E::ExhaustJob, args, "dead",
    [q.("queued"), q.("started"), q.("failed", "will_retry" => true), q.("retrying", "retry_count" => 0),
      q.("queued", "retry_count" => 0), q.("started", "retry_count" => 0),
      q.("failed", "retry_count" => 0, "will_retry" => false), q.("dead", "retry_count" => 1)])

  add.call(push.call(SupervisorE2E::NoRetryJob, args), "dies_retry_disabled", SupervisorE2E::NoRetryJob, args, "dead",
    [q.("queued"), q.("started"), q.("failed", "will_retry" => false), q.("dead")])

  args = [run_id, "scheduled"]
  add.call(push.call(SupervisorE2E::OkJob, args, "at" => Time.now.to_f + 1.5), "scheduled", SupervisorE2E::OkJob, args,
    "succeeded", [q.("scheduled"), q.("queued"), q.("started"), q.("succeeded")])

  child_jid = SecureRandom.hex(12)
  args = [run_id, child_jid, queue]
  add.call(push.call(SupervisorE2E::ParentJob, args), "enqueues_a_child", SupervisorE2E::ParentJob, args, "succeeded",
    [q.("queued"), q.("started"), q.("succeeded")])
  add.call(child_jid, "enqueued_by_a_job", SupervisorE2E::ChildJob, [run_id, "child"], "succeeded",
    [q.("queued"), q.("started"), q.("succeeded")])

  if defined?(SupervisorE2E::ActiveReportJob)
    # the manifest holds what the service shows: Active Job's class and arguments, not the wrapper's
    args = [run_id, "active"]
    ENV["SUPERVISOR_E2E_QUEUE"] = queue
    aj = SupervisorE2E::ActiveReportJob.perform_later(*args)
    add.call(aj.provider_job_id, "active_job", SupervisorE2E::ActiveReportJob, args, "succeeded",
      [q.("queued"), q.("started"), q.("succeeded")])
    jobs[aj.provider_job_id]["active_job_id"] = aj.job_id
  end

  args = [run_id]
  add.call(push.call(SupervisorE2E::ProgressJob, args), "reports_progress", SupervisorE2E::ProgressJob, args,
    "succeeded", [q.("queued"), q.("started"), q.("succeeded")])

  log "enqueued #{jobs.size} jobs (run #{run_id})"

  # ---------------------------------------------------------------- wait until settled
  settled = false
  deadline = mono + opts[:timeout]
  outcomes = {}
  while mono < deadline
    outcomes = Sidekiq.redis { |c| c.hmget(SupervisorE2E::OUTCOMES, *jobs.keys) }.zip(jobs.keys).to_h { |v, k| [k, v] }
    if jobs.all? { |jid, j| outcomes[jid] == j["expected_status"] }
      settled = true
      break
    end
    _, st = Process.waitpid2(sidekiq_pid, Process::WNOHANG)
    if st
      sidekiq_status = st
      raise "Sidekiq exited early (#{st.inspect})"
    end
    if opts[:fast_retries]
      Sidekiq::RetrySet.new.each { |entry| entry.add_to_queue if jobs.key?(entry.jid) }
    end
    sleep 0.1
  end
  log(settled ? "all jobs settled after #{(mono - t_start).round(2)}s" : "NOT settled: #{outcomes.inspect}")

  # ---------------------------------------------------------------- stop, flush, manifest
  Sidekiq::Supervisor.shutdown # this process's async buffer (no-op in sync mode)
  stop_sidekiq.call(20)
  server_stats = begin
    JSON.parse(File.read(File.join(state_dir, "server-stats.json")))
  rescue StandardError
    nil
  end
  clean_exit = sidekiq_status&.success?
  exit_code = settled && clean_exit ? 0 : 1

  Sidekiq.redis do |c|
    c.hdel(SupervisorE2E::OUTCOMES, jobs.keys)
    c.del(SupervisorE2E::UNMARKED)
    jobs.each_key { |jid| c.del("supervisor-e2e:attempts:#{jid}") }
  end

  client_stats = Sidekiq::Supervisor.stats.transform_keys(&:to_s)
  # every event sent and acknowledged by the service (nothing failed, dropped or rejected)
  delivery_ok = [client_stats, server_stats || {}].all? do |st|
    %w[failed dropped rejected].all? { |k| st[k].to_i.zero? } && st["buffered"].to_i.zero?
  end && !server_stats.nil?
  manifest = {
    "run_id" => run_id, "delivery_ok" => delivery_ok, "mode" => opts[:mode], "instance" => ENV["SIDEKIQ_SUPERVISOR_INSTANCE"] || "default",
    "queue" => queue, "settled" => settled, "duration_s" => (mono - t_start).round(3),
    "sidekiq" => {"version" => Sidekiq::VERSION, "pid" => sidekiq_pid, "exit_status" => sidekiq_status&.exitstatus,
                  "log" => sidekiq_log},
    "harness_pid" => Process.pid,
    "client_stats" => client_stats, "server_stats" => server_stats,
    "jobs" => jobs
  }
rescue StandardError => e
  log "ERROR: #{e.class}: #{e.message}"
  exit_code = 1
ensure
  stop_sidekiq.call(10) if sidekiq_pid && sidekiq_status.nil?
end

if exit_code != 0 && File.exist?(sidekiq_log)
  log "---- last lines of #{sidekiq_log}"
  warn File.readlines(sidekiq_log).last(40).join
end
if manifest
  json = JSON.pretty_generate(manifest)
  File.write(opts[:manifest], json) if opts[:manifest]
  puts json
end
exit exit_code
