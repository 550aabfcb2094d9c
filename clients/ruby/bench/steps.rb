# frozen_string_literal: true

# Instructions per job of each step of async mode's hot path, outside Sidekiq: a loop calls a
# middleware N times on one thread (the sender thread runs beside it, its HTTP post replaced by a 200
# answer), under valgrind's callgrind, for two N; the difference of the totals over the extra calls is
# the cost of one call (boot, require and exit cancel out). Variants add one step at a time, so the
# steps' costs are differences between variants.
#
#   ruby clients/ruby/bench/steps.rb                  # every variant (needs valgrind; ~2 min)
#   ruby clients/ruby/bench/steps.rb trivial async    # some
#   ruby clients/ruby/bench/steps.rb --run VARIANT N  # one run, no valgrind (what the above runs)
#
# Variants: trivial (a pass-through middleware), clocks (+ two realtime clock reads), slot (+ the
# thread slot), run (+ a marked run's Array of 8 values), kept (+ kept in an Array until handed over),
# async (this gem's middleware on a marked job, everything but the socket), async_nopush (the run
# not pushed), async_nodeliver (pushed and handed over, batches not made into bodies), async_nogen
# (bodies made, the rows' JSON not generated).

$LOAD_PATH.unshift File.expand_path("../lib", __dir__)
require "rbconfig"

VARIANTS = %w[trivial clocks slot run kept async async_nopush async_nodeliver async_nogen].freeze

unless ARGV[0] == "--run"
  small = 2_000
  large = 12_000
  (ARGV.empty? ? VARIANTS : ARGV).each do |v|
    totals = [small, large].map do |n|
      out = IO.popen(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", RbConfig.ruby, __FILE__,
        "--run", v, n.to_s], err: [:child, :out], &:read)
      Integer(out[/refs:\s+([\d,]+)/, 1].delete(","))
    end
    puts format("%-16s %8d instructions per call", v, (totals[1] - totals[0]) / (large - small))
  end
  exit
end

require "sidekiq"
require "sidekiq/supervisor"

variant = ARGV[1]
n = Integer(ARGV[2])
Sidekiq.logger.level = Logger::ERROR
Sidekiq::Supervisor.configure do |c|
  c.url = "http://127.0.0.1:9"
  c.token = "bench"
  c.mode = :async
  c.flush_interval = 30
end
reporter = Sidekiq::Supervisor.reporter
reporter.transport.define_singleton_method(:post) { |*_a, **_k| Sidekiq::Supervisor::Transport::Response.new(200, "{}") }
case variant
when "async_nopush" then reporter.define_singleton_method(:push_run) { |_run| true }
when "async_nodeliver" then reporter.define_singleton_method(:deliver_batch) { |_batch| :ok }
when "async_nogen" then Sidekiq::Supervisor::Events.define_singleton_method(:rows_json) { |_rows, _g| "[]" }
end

module StepsBench
  KEY = Sidekiq::Supervisor::RUN_KEY
  CLOCK = ::Process::CLOCK_REALTIME

  class Trivial
    def call(_worker, _job, _queue)
      yield
    end
  end

  class Clocks
    def call(_worker, _job, _queue)
      ::Process.clock_gettime(CLOCK, :microsecond)
      r = yield
      ::Process.clock_gettime(CLOCK, :microsecond)
      r
    end
  end

  class Slot
    def call(_worker, _job, _queue)
      t0 = ::Process.clock_gettime(CLOCK, :microsecond)
      th = Thread.current
      th[KEY] = t0
      r = yield
      ::Process.clock_gettime(CLOCK, :microsecond)
      r
    end
  end

  class Run
    def call(_worker, job, _queue)
      t0 = ::Process.clock_gettime(CLOCK, :microsecond)
      th = Thread.current
      run = [nil, job["jid"], nil, th, job["retry_count"], job["enqueued_at"], nil, t0]
      th[KEY] = run
      r = yield
      run[2] = ::Process.clock_gettime(CLOCK, :microsecond)
      r
    end
  end

  class Kept
    def initialize
      @runs = []
    end

    def call(_worker, job, _queue)
      t0 = ::Process.clock_gettime(CLOCK, :microsecond)
      th = Thread.current
      run = [nil, job["jid"], nil, th, job["retry_count"], job["enqueued_at"], nil, t0]
      th[KEY] = run
      r = yield
      run[2] = ::Process.clock_gettime(CLOCK, :microsecond)
      @runs << run
      @runs.shift(500) if @runs.size >= 500
      r
    end
  end
end

mw = case variant
when "trivial" then StepsBench::Trivial.new
when "clocks" then StepsBench::Clocks.new
when "slot" then StepsBench::Slot.new
when "run" then StepsBench::Run.new
when "kept" then StepsBench::Kept.new
else Sidekiq::Supervisor::Middleware::Server.new
end
job = {"class" => "NoopJob", "args" => [1], "jid" => "0123456789abcdef01234567", "queue" => "bench", "retry" => false,
       "created_at" => Time.now.to_f, "enqueued_at" => Time.now.to_f, Sidekiq::Supervisor::MARK => 1}
GC.start
Thread.new do
  i = 0
  while i < n
    mw.call(nil, job, "bench") { nil }
    i += 1
  end
end.join
Sidekiq::Supervisor.shutdown(5)
