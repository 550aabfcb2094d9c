# frozen_string_literal: true

# Sidekiq app for bench/throughput.rb: a no-op job plus start/end markers.
# BENCH_SUPERVISOR=none|sync|async decides whether (and how) the supervisor middleware is installed.

$LOAD_PATH.unshift File.expand_path("../lib", __dir__)
require "json"
require "sidekiq"

Redis.silence_deprecations = true if defined?(Redis) && Redis.respond_to?(:silence_deprecations=)
BENCH_REDIS = {url: ENV.fetch("REDIS_URL", "redis://127.0.0.1:6379/0")}.freeze
BENCH_MODE = ENV.fetch("BENCH_SUPERVISOR", "none")

module SupervisorBench
  KEY = "supervisor-bench:marks"

  def self.now
    Process.clock_gettime(Process::CLOCK_REALTIME)
  end

  class NoopJob
    include Sidekiq::Worker
    sidekiq_options queue: "bench", retry: false

    SLEEP = ENV["BENCH_JOB_SLEEP_MS"].to_f / 1000.0 # emulated I/O wait per job (0: a true no-op)

    def perform(_n)
      sleep(SLEEP) if SLEEP.positive?
    end
  end

  class MarkJob
    include Sidekiq::Worker
    sidekiq_options queue: "bench", retry: false

    def perform(name)
      cpu = Process.clock_gettime(Process::CLOCK_PROCESS_CPUTIME_ID) # all threads of this process
      gc = GC.stat
      Sidekiq.redis do |c|
        c.hset(KEY, name, "#{SupervisorBench.now} #{cpu} #{gc[:total_allocated_objects]} #{gc[:minor_gc_count]} #{gc[:major_gc_count]} #{gc[:time].to_i}")
      end
    end
  end
end

if Sidekiq.server? && ENV["BENCH_STATE_DIR"]
  at_exit do
    stats = defined?(Sidekiq::Supervisor) ? Sidekiq::Supervisor.stats : {}
    File.write(File.join(ENV["BENCH_STATE_DIR"], "server-stats.json"), JSON.generate(stats))
  end
end

Sidekiq.configure_client { |c| c.redis = BENCH_REDIS }
Sidekiq.configure_server do |c|
  c.redis = BENCH_REDIS
  # Per-job INFO lines would dominate a no-op job; measure the middleware, not the logger.
  Sidekiq.logger.level = Logger::WARN unless ENV["BENCH_LOG_INFO"] == "1"
  c.on(:startup) { File.write(File.join(ENV["BENCH_STATE_DIR"], "ready"), Process.pid.to_s) if ENV["BENCH_STATE_DIR"] }
end

# Mode "trivial": a pass-through middleware of the bench's own, not this gem: what any server
# middleware costs a Sidekiq job (Sidekiq skips its chain only while the chain is empty).
if BENCH_MODE == "trivial" && Sidekiq.server?
  module SupervisorBench
    class PassThrough
      def call(*)
        yield
      end
    end
  end
  Sidekiq.configure_server { |c| c.server_middleware { |chain| chain.add(SupervisorBench::PassThrough) } }
end

if %w[sync async off].include?(BENCH_MODE) && Sidekiq.server?
  require "sidekiq/supervisor"
  if BENCH_MODE == "off"
    # middleware registered but switched off: the cost of Sidekiq's middleware chain itself
    # (install! registers nothing when disabled, so register by hand and switch off afterwards)
    Sidekiq.configure_server do |c|
      Sidekiq::Supervisor.install_client(c)
      Sidekiq::Supervisor.install_server(c)
    end
    Sidekiq::Supervisor.configure { |c| c.enabled = false }
  else
    Sidekiq::Supervisor.install! { |c| c.mode = BENCH_MODE }
  end
end
# Diagnostics (npm run bench:ruby-client with BENCH_BREAKDOWN=1): BENCH_VARIANT=null_push|null_deliver
# stubs out one stage of async mode to see what each costs inside a real Sidekiq (mode "off" is the
# middleware that does nothing).
if ENV["BENCH_VARIANT"] && defined?(Sidekiq::Supervisor) && Sidekiq.server?
  r = Sidekiq::Supervisor.reporter
  case ENV["BENCH_VARIANT"]
  when "null_push" then r.define_singleton_method(:push_row) { |_row| true }
  when "null_deliver" then r.define_singleton_method(:deliver_batch) { |_b| :ok }
  end
end
