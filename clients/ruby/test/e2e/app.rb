# frozen_string_literal: true

# The Sidekiq app used by run_scenario.rb (and loaded by it as a client): job classes for each
# lifecycle path, the supervisor middleware, and small test-only hooks that record each job's outcome
# in Redis (so the harness knows when everything has settled) and the reporter's counters at exit.
#
#   sidekiq -r clients/ruby/test/e2e/app.rb -c 2 -q default -t 5
#
# Environment: REDIS_URL, SIDEKIQ_SUPERVISOR_URL, SIDEKIQ_SUPERVISOR_TOKEN, SIDEKIQ_SUPERVISOR_MODE,
# SUPERVISOR_E2E_STATE_DIR (where the server writes ready + stats files).

$LOAD_PATH.unshift File.expand_path("../../lib", __dir__)
require "json"
require "fileutils"
require "sidekiq"
require "sidekiq/supervisor/status" # ProgressJob includes it; the rest is required below

Redis.silence_deprecations = true if defined?(Redis) && Redis.respond_to?(:silence_deprecations=) # redis-rb 4.8 noise
begin
  require "logger"
  require "active_job"
  ActiveJob::Base.queue_adapter = :sidekiq
  ActiveJob::Base.logger = Logger.new(IO::NULL) # the harness's stdout carries the manifest only
rescue LoadError
  nil # no Active Job here: the harness leaves its scenario out
end
REDIS_CONFIG = {url: ENV.fetch("REDIS_URL", "redis://127.0.0.1:6379/0")}.freeze
STATE_DIR = ENV["SUPERVISOR_E2E_STATE_DIR"]

module SupervisorE2E
  OUTCOMES = "supervisor-e2e:outcomes" # hash jid -> succeeded | dead | failed:<retry_count or first>
  UNMARKED = "supervisor-e2e:unmarked" # set of jids that must run without the supervisor's mark

  def self.record(jid, outcome)
    Sidekiq.redis { |c| c.hset(OUTCOMES, jid, outcome) }
  rescue StandardError => e
    warn "[e2e] could not record #{jid}: #{e.class}: #{e.message}"
  end

  def self.write_state(name, data)
    return unless STATE_DIR
    FileUtils.mkdir_p(STATE_DIR)
    tmp = File.join(STATE_DIR, ".#{name}.tmp")
    File.write(tmp, JSON.generate(data))
    File.rename(tmp, File.join(STATE_DIR, name))
  end

  # Innermost server middleware (added after the supervisor's, which is prepended): records the outcome
  # of each attempt after the job ran, so the supervisor's events for it are already on their way.
  class OutcomeRecorder
    def call(_worker, job, _queue)
      yield
      SupervisorE2E.record(job["jid"], "succeeded")
    rescue Exception # rubocop:disable Lint/RescueException
      SupervisorE2E.record(job["jid"], "failed:#{job["retry_count"] || "first"}")
      raise
    end
  end

  # Outermost client middleware (prepended, in both processes): takes the supervisor's mark off the
  # jobs the harness listed, so that they run as a job pushed without the client middleware would
  # (their queued events are still reported, which makes them twins of marked jobs).
  class Unmark
    def call(_job_class, job, _queue, _redis_pool = nil)
      result = yield
      if result.is_a?(Hash) && Sidekiq.redis { |c| c.sismember(UNMARKED, job["jid"].to_s) }
        result.delete(Sidekiq::Supervisor::MARK)
      end
      result
    end
  end

  class OkJob
    include Sidekiq::Worker
    sidekiq_options queue: "default", retry: 3

    def perform(_run, _label, *_rest); end
  end

  # Fails on its first run, succeeds on the retry.
  class FlakyJob
    include Sidekiq::Worker
    sidekiq_options queue: "default", retry: 3
    sidekiq_retry_in { |_count, _ex| 1 }

    def perform(_run)
      n = Sidekiq.redis { |c| c.incr("supervisor-e2e:attempts:#{jid}") }
      raise IOError, "flaky first attempt" if n == 1
    end
  end

  # retry: 0 -> dies on the first failure (into the dead set; death handlers run).
  class DieJob
    include Sidekiq::Worker
    sidekiq_options queue: "default", retry: 0

    def perform(_run)
      raise ArgumentError, "this job always dies"
    end
  end

  # retry: 1 -> fails, is retried once, fails again, dies (retries exhausted).
  class ExhaustJob
    include Sidekiq::Worker
    sidekiq_options queue: "default", retry: 1
    sidekiq_retry_in { |_count, _ex| 1 }

    def perform(_run)
      raise KeyError, "still broken"
    end
  end

  # retry: false -> not retried, not put in the dead set, but death handlers run.
  class NoRetryJob
    include Sidekiq::Worker
    sidekiq_options queue: "default", retry: false

    def perform(_run)
      raise NotImplementedError, "no retries for me"
    end
  end

  # Enqueues a child with a jid chosen by the harness (client middleware inside the server).
  class ParentJob
    include Sidekiq::Worker
    sidekiq_options queue: "default", retry: 3

    def perform(run, child_jid, queue)
      Sidekiq::Client.push("class" => ChildJob, "args" => [run, "child"], "jid" => child_jid, "queue" => queue)
    end
  end

  class ChildJob
    include Sidekiq::Worker
    sidekiq_options queue: "default", retry: 3

    def perform(_run, _label); end
  end

  # An Active Job (Debian's ruby-activejob), pushed by Rails' Sidekiq adapter in its wrapper.
  if defined?(::ActiveJob::Base)
    class ActiveReportJob < ::ActiveJob::Base
      queue_as { ENV.fetch("SUPERVISOR_E2E_QUEUE", "default") }

      def perform(_run, _label); end
    end
  end

  # Reports progress and custom data as sidekiq-status users do (Sidekiq::Supervisor::Status).
  class ProgressJob
    include Sidekiq::Worker
    include Sidekiq::Supervisor::Status
    sidekiq_options queue: "default", retry: 3

    def perform(run)
      total 8
      at 6, "six of eight"
      store "run" => run, "step" => 6, "drop" => "me"
      store "drop" => nil
      # what the service gives back (the gem's own harness runs against a sink that has none)
      store "read_back" => retrieve(:step)
    end
  end
end

def supervisor_e2e_stats
  Sidekiq::Supervisor.stats.transform_keys(&:to_s)
end

if Sidekiq.server?
  # Registered before install! so that it runs after the supervisor's own at_exit flush.
  at_exit { SupervisorE2E.write_state("server-stats.json", supervisor_e2e_stats.merge("pid" => Process.pid)) }
end

require "sidekiq/supervisor"

Sidekiq.configure_client { |c| c.redis = REDIS_CONFIG }
Sidekiq.configure_server do |c|
  c.redis = REDIS_CONFIG
  # Pick scheduled jobs and retries up fast (the default first poll waits 10-15 s).
  if c.respond_to?(:[]=) # 7.x/8.x Sidekiq::Config, and the Sidekiq module on 6.5
    c[:poll_interval_average] = 1
    c[:average_scheduled_poll_interval] = 1
  else
    c.options[:poll_interval_average] = 1
    c.average_scheduled_poll_interval = 1
  end
end

Sidekiq::Supervisor.install!

Sidekiq.configure_client { |c| c.client_middleware { |chain| chain.prepend SupervisorE2E::Unmark } }

Sidekiq.configure_server do |c|
  c.server_middleware { |chain| chain.add SupervisorE2E::OutcomeRecorder }
  c.client_middleware { |chain| chain.prepend SupervisorE2E::Unmark }
  c.death_handlers << ->(job, _ex) { SupervisorE2E.record(job["jid"], "dead") }
  c.on(:startup) { SupervisorE2E.write_state("ready.json", {"pid" => Process.pid, "sidekiq" => Sidekiq::VERSION}) }
end
