# frozen_string_literal: true

# Throughput of a real Sidekiq with and without the supervisor middleware, measured in one run.
#
#   REDIS_URL=redis://127.0.0.1:56379/0 [SIDEKIQ_SUPERVISOR_URL=http://127.0.0.1:3000 SIDEKIQ_SUPERVISOR_TOKEN=...] \
#     ruby clients/ruby/bench/throughput.rb [--jobs 5000] [--warmup 2000] [--concurrency 5] [--rounds 3] [--modes none,sync,async]
#                                           [--job-sleep-ms 0] [--log-info] [--json FILE] [--callgrind DIR]
#
# Without SIDEKIQ_SUPERVISOR_URL a Ruby sink (test/support/sink.rb) is started on 127.0.0.1 as the target.
# For each round and mode: W warm-up jobs and N no-op jobs are enqueued by this process (client middleware in that mode,
# measured: enqueue jobs/s), then a Sidekiq server is started (`sidekiq -r bench/app.rb -c C -q bench`),
# and the time from a start-marker job to an end-marker job gives processing jobs/s. Modes run
# interleaved within each round (in a rotated order); each round's run of a mode is compared with that round's
# no-middleware baseline ("none"), and the median of those ratios over the rounds is reported.
# Mode "async_unmarked" (not run by default) is async mode on jobs pushed without the client middleware,
# which therefore carry no mark and send their full data on every run. Mode "off" (not run by default) installs the middleware with SIDEKIQ_SUPERVISOR_ENABLED=false: the cost
# of Sidekiq's middleware chain itself. Mode "trivial" (not run by default) installs a pass-through middleware of
# the bench's own instead of this gem: what any server middleware costs.
# --callgrind DIR runs each Sidekiq server under valgrind's callgrind and records the instructions it
# executed (server_instructions: the whole process, boot and shutdown included). Instruction counts do
# not depend on the host's speed or on other load: run twice with different --jobs and take the
# difference per job (bench/ruby-client.mjs does) to get a repeatable cost per job. The server then gets
# SIDEKIQ_SUPERVISOR_FLUSH_INTERVAL=30, so that its batches fill to batch_size as at full speed (under
# valgrind it runs ~30x slower).
# Uses only the queue "bench" and the key supervisor-bench:marks in REDIS_URL's database.

require "json"
require "optparse"
require "tmpdir"
require "fileutils"
require "logger"
require "rbconfig"

$LOAD_PATH.unshift File.expand_path("../lib", __dir__)
opts = {jobs: 5000, concurrency: 5, rounds: 3, modes: %w[none sync async], json: nil, sleep_ms: 0.0, log_info: false,
        warmup: 2000}
OptionParser.new do |o|
  o.on("--jobs N", Integer) { |v| opts[:jobs] = v }
  o.on("--concurrency N", Integer) { |v| opts[:concurrency] = v }
  o.on("--rounds N", Integer) { |v| opts[:rounds] = v }
  o.on("--warmup N", Integer, "jobs processed before the start mark (default 2000): a freshly started Sidekiq's heap",
    "still grows (major GCs) during its first thousands of jobs, more so with more code loaded") { |v| opts[:warmup] = v }
  o.on("--modes LIST") { |v| opts[:modes] = v.split(",").map(&:strip) }
  o.on("--json FILE") { |v| opts[:json] = v }
  o.on("--job-sleep-ms MS", Float, "each job sleeps this long (emulated I/O); default 0 = no-op") { |v| opts[:sleep_ms] = v }
  o.on("--callgrind DIR", "run each Sidekiq server under callgrind (writes DIR/cg.<mode>.<jobs>.<time>)") { |v| opts[:callgrind] = v }
  o.on("--log-info", "keep Sidekiq's per-job INFO log lines (default: WARN, so the middleware is what is measured)") { opts[:log_info] = true }
end.parse!(ARGV)
abort "REDIS_URL is required" if ENV["REDIS_URL"].to_s.empty?
MODES = %w[none trivial off sync async async_unmarked].freeze
abort "modes must be among #{MODES.join(", ")}" unless (opts[:modes] - MODES).empty?

def mono
  Process.clock_gettime(Process::CLOCK_MONOTONIC)
end

def log(msg)
  warn "[bench] #{msg}"
end

sink_pid = nil
url = ENV["SIDEKIQ_SUPERVISOR_URL"]
token = ENV["SIDEKIQ_SUPERVISOR_TOKEN"] || "bench-token"
if url.to_s.empty?
  r, w = IO.pipe
  sink_pid = Process.spawn(RbConfig.ruby, File.expand_path("../test/support/sink.rb", __dir__), "0", "--quiet",
    "--no-record", out: w, err: File::NULL)
  w.close
  line = r.gets.to_s
  port = line[/LISTENING (\d+)/, 1] or abort "sink did not start"
  url = "http://127.0.0.1:#{port}"
  log "no SIDEKIQ_SUPERVISOR_URL: using a Ruby sink at #{url} (pid #{sink_pid})"
end
ENV["SIDEKIQ_SUPERVISOR_URL"] = url
ENV["SIDEKIQ_SUPERVISOR_TOKEN"] = token

APP = File.expand_path("app.rb", __dir__)
require "sidekiq"
Sidekiq.logger = Logger.new($stderr, level: Logger::WARN)
require APP
require "sidekiq/supervisor"

def run_one(mode, opts, state_dir)
  FileUtils.rm_f(Dir[File.join(state_dir, "*")])
  Sidekiq.redis { |c| c.del("queue:bench", SupervisorBench::KEY) }

  # ---- producer side: enqueue with the client middleware in this mode
  Sidekiq.client_middleware.remove(Sidekiq::Supervisor::Middleware::Client)
  Sidekiq::Supervisor.reset!(ENV)
  if %w[sync async].include?(mode)
    Sidekiq::Supervisor.configure do |c|
      c.mode = mode
      c.logger = Logger.new($stderr, level: Logger::WARN)
    end
    Sidekiq::Supervisor.install_client(Sidekiq::Supervisor::Compat.default_config)
  end
  opts[:warmup].times { |i| SupervisorBench::NoopJob.perform_async(-i) }
  SupervisorBench::MarkJob.perform_async("start")
  t0 = mono
  opts[:jobs].times { |i| SupervisorBench::NoopJob.perform_async(i) }
  enqueue_s = mono - t0
  SupervisorBench::MarkJob.perform_async("end")
  client_flushed = Sidekiq::Supervisor.shutdown(30)
  client_stats = Sidekiq::Supervisor.stats

  # ---- server side
  # async_unmarked: the server in async mode, the jobs pushed without the client middleware (no
  # mark: each run sends the job's class, queue and arguments)
  env = {"BENCH_SUPERVISOR" => mode == "async_unmarked" ? "async" : mode, "BENCH_STATE_DIR" => state_dir, "SIDEKIQ_SUPERVISOR_ENABLED" => "true",
         "BENCH_JOB_SLEEP_MS" => opts[:sleep_ms].to_s, "BENCH_LOG_INFO" => opts[:log_info] ? "1" : "0"}
  cmd = [ENV["SIDEKIQ_BIN"] || "sidekiq", "-r", APP, "-c", opts[:concurrency].to_s, "-q", "bench", "-t", "5"]
  cg_out = nil
  if opts[:callgrind]
    cg_out = File.join(opts[:callgrind], "cg.#{mode}.#{opts[:jobs]}.#{Process.clock_gettime(Process::CLOCK_REALTIME, :nanosecond)}")
    cmd = ["valgrind", "--tool=callgrind", "--dump-instr=no", "--callgrind-out-file=#{cg_out}", *cmd]
    env["SIDEKIQ_SUPERVISOR_FLUSH_INTERVAL"] = "30"
  end
  pid = Process.spawn(env, *cmd, out: File.join(state_dir, "sidekiq.log"), err: [:child, :out], in: File::NULL)
  deadline = mono + (cg_out ? 3600 : 300)
  marks = {}
  loop do
    marks = Sidekiq.redis { |c| c.hgetall(SupervisorBench::KEY) }
    break if marks["end"]
    raise "Sidekiq exited early; see #{state_dir}/sidekiq.log" if Process.waitpid(pid, Process::WNOHANG)
    raise "timeout" if mono > deadline
    sleep 0.05
  end
  t_stop = mono
  Process.kill("TERM", pid)
  Process.wait(pid)
  stop_s = mono - t_stop
  server_stats = JSON.parse(File.read(File.join(state_dir, "server-stats.json"))) rescue {}
  w0, c0, a0, mi0, ma0, g0 = marks["start"].split.map(&:to_f)
  w1, c1, a1, mi1, ma1, g1 = marks["end"].split.map(&:to_f)
  process_s = w1 - w0
  cpu_us_per_job = (c1 - c0) * 1e6 / opts[:jobs]
  instructions = cg_out && File.foreach(cg_out).grep(/\Atotals:/).first.to_s.split[1].to_i
  {
    "mode" => mode, "jobs" => opts[:jobs], "enqueue_jobs_per_s" => (opts[:jobs] / enqueue_s).round(1),
    "process_jobs_per_s" => (opts[:jobs] / process_s).round(1), "process_s" => process_s.round(3),
    "server_cpu_us_per_job" => cpu_us_per_job.round(1),
    "server_objects_per_job" => ((a1 - a0) / opts[:jobs]).round(1), "server_minor_gcs" => (mi1 - mi0).to_i,
    "server_major_gcs" => (ma1 - ma0).to_i, "server_gc_us_per_job" => ((g1.to_f - g0.to_f) * 1000 / opts[:jobs]).round(1),
    "stop_s" => stop_s.round(2), "client_flushed" => client_flushed,
    "client_events_sent" => client_stats[:sent].to_i, "client_events_dropped" => client_stats[:dropped].to_i,
    "server_events_sent" => server_stats["sent"].to_i, "server_events_dropped" => server_stats["dropped"].to_i,
    "server_batches" => server_stats["batches"], "server_instructions" => instructions
  }
end

def median(a)
  s = a.sort
  s.size.odd? ? s[s.size / 2] : (s[s.size / 2 - 1] + s[s.size / 2]) / 2.0
end

results = []
state_dir = Dir.mktmpdir("supervisor-bench-")
begin
  Sidekiq.redis(&:ping)
  opts[:rounds].times do |round|
    opts[:modes].rotate(round).each do |mode| # each mode takes each position in turn (no order bias)
      r = run_one(mode, opts, state_dir).merge("round" => round + 1)
      log format("round %d %-5s enqueue %8.1f jobs/s   process %8.1f jobs/s  %7.1f cpu-us/job  %6.1f objects/job  " \
        "GCs %d/%d (%.1f us/job)   events sent %d/%d dropped %d/%d",
        r["round"], mode, r["enqueue_jobs_per_s"], r["process_jobs_per_s"], r["server_cpu_us_per_job"],
        r["server_objects_per_job"], r["server_minor_gcs"], r["server_major_gcs"], r["server_gc_us_per_job"], r["client_events_sent"],
        r["server_events_sent"], r["client_events_dropped"], r["server_events_dropped"])
      results << r
    end
  end
ensure
  Sidekiq.redis { |c| c.del("queue:bench", SupervisorBench::KEY) } rescue nil
  if sink_pid
    Process.kill("TERM", sink_pid) rescue nil
    Process.wait(sink_pid) rescue nil
  end
  FileUtils.rm_rf(state_dir)
end

summary = opts[:modes].to_h do |mode|
  rs = results.select { |r| r["mode"] == mode }
  [mode, {"enqueue_jobs_per_s" => median(rs.map { |r| r["enqueue_jobs_per_s"] }),
          "process_jobs_per_s" => median(rs.map { |r| r["process_jobs_per_s"] }),
          "server_cpu_us_per_job" => median(rs.map { |r| r["server_cpu_us_per_job"] }),
          "server_gc_us_per_job" => median(rs.map { |r| r["server_gc_us_per_job"] }),
          "server_major_gcs" => median(rs.map { |r| r["server_major_gcs"] }),
          "server_instructions" => (median(rs.map { |r| r["server_instructions"] }) if opts[:callgrind])}.compact]
end
# Ratios are paired: each round's run of a mode against the same round's "none" (they ran minutes
# apart at most), then the median over rounds. The machine's speed drifts between rounds (other load
# on a shared host), which a ratio of whole-run medians would mix into the comparison.
if summary["none"]
  by_round = results.group_by { |r| r["round"] }.transform_values { |rs| rs.to_h { |r| [r["mode"], r] } }
  paired = lambda do |mode, key|
    median(by_round.values.map { |runs| runs[mode][key] / runs["none"][key] })
  end
  summary.each do |mode, s|
    s["enqueue_ratio"] = paired.call(mode, "enqueue_jobs_per_s").round(3)
    s["process_ratio"] = paired.call(mode, "process_jobs_per_s").round(3)
    s["process_cost_pct"] = ((1 - s["process_ratio"]) * 100).round(1)
    s["cpu_ratio"] = paired.call(mode, "server_cpu_us_per_job").round(3)
    s["cpu_cost_pct"] = ((s["cpu_ratio"] - 1) * 100).round(1)
  end
end

puts
puts format("%-6s %15s %7s %15s %7s %8s %12s %8s", "mode", "enqueue jobs/s", "ratio", "process jobs/s", "ratio", "cost",
  "cpu-us/job", "cost")
summary.each do |mode, s|
  puts format("%-6s %15.1f %7s %15.1f %7s %8s %12.1f %8s", mode, s["enqueue_jobs_per_s"], s["enqueue_ratio"] || "-",
    s["process_jobs_per_s"], s["process_ratio"] || "-", s["process_cost_pct"] ? "#{s["process_cost_pct"]}%" : "-",
    s["server_cpu_us_per_job"], s["cpu_cost_pct"] ? "#{s["cpu_cost_pct"]}%" : "-")
end
puts "cost: throughput lost vs. none (wall clock, sensitive to other load on the machine); " \
  "cpu cost: extra CPU of the Sidekiq process per job (all its threads) vs. none; " \
  "ratios and costs: median over rounds of each round's run against that round's none (jobs/s and CPU: medians of the runs)"
puts "(medians of #{opts[:rounds]} round(s), #{opts[:jobs]} jobs each, job sleep #{opts[:sleep_ms]} ms, sidekiq -c #{opts[:concurrency]}, " \
  "#{opts[:log_info] ? "INFO" : "WARN"} logging, target #{url}, Sidekiq #{Sidekiq::VERSION}, Ruby #{RUBY_VERSION})"
if opts[:json]
  File.write(opts[:json], JSON.pretty_generate({"summary" => summary, "runs" => results, "options" => opts, "target" => url}))
end
