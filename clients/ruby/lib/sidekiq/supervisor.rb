# frozen_string_literal: true

require "sidekiq"
require "sidekiq/supervisor/version"
require "sidekiq/supervisor/configuration"
require "sidekiq/supervisor/events"
require "sidekiq/supervisor/transport"
require "sidekiq/supervisor/async_dispatcher"
require "sidekiq/supervisor/reporter"
require "sidekiq/supervisor/compat"
require "sidekiq/supervisor/middleware"
require "sidekiq/supervisor/deploy"
require "sidekiq/supervisor/status"

module Sidekiq
  # Reports each Sidekiq job's lifecycle to a Sidekiq Supervisor service.
  #
  #   require "sidekiq/supervisor"
  #   Sidekiq::Supervisor.install! do |c|   # reads SIDEKIQ_SUPERVISOR_* first; the block overrides
  #     c.mode = :async
  #   end
  #
  # install! registers the client middleware (configure_client and configure_server), the server
  # middleware and the death handler (configure_server), optional process lifecycle hooks, and a
  # flush of the async buffer at exit. Reporting never raises into, nor blocks, a job beyond the
  # configured timeouts.
  module Supervisor
    # Thread slot of the job run in progress on that thread (async mode; see begin_run).
    RUN_KEY = :sidekiq_supervisor_run
    # The key the client middleware adds to a job whose queued (or scheduled) event it reported
    # (Middleware::Client). Sidekiq keeps a job hash's unknown keys through retries and the
    # schedule/retry sets (6.4.1's retry handler and poller re-push the whole hash), so every run of
    # the job sees it.
    MARK = "ssv"

    @mutex = Mutex.new
    @installed = false
    @at_exit_registered = false

    class << self
      def configuration
        @configuration || @mutex.synchronize { @configuration ||= Configuration.new }
      end
      alias config configuration

      # Yields the configuration. Replaces the reporter, so call it before jobs run (usually once, at boot).
      def configure
        yield configuration if block_given?
        @context = nil
        old = @reporter
        @reporter = nil
        old&.shutdown(0.5) if old && old.config.async?
        problems = configuration.validate
        reporter.log(:warn, "sidekiq-supervisor: #{problems.join("; ")}") if problems.any?
        configuration
      end

      # Replace the configuration (tests).
      def reset!(env = ENV)
        stop_heartbeat
        @process_context = nil
        old = @reporter
        @reporter = nil
        old&.shutdown(0.5)
        @context = nil
        @configuration = Configuration.new(env)
      end

      def reporter
        @reporter || @mutex.synchronize { @reporter ||= Reporter.new(configuration) }
      end

      def enabled?
        configuration.enabled?
      end

      # Registers everything with Sidekiq. Idempotent. Works with Sidekiq 6.x, 7.x and 8.x.
      # When reporting is switched off (SIDEKIQ_SUPERVISOR_ENABLED=false) or no URL is set at this
      # point, nothing is registered.
      def install!(&block)
        configure(&block) if block
        first = @mutex.synchronize do
          next false if @installed
          @installed = true
        end
        return configuration unless first

        unless configuration.enabled?
          # Switched off (or no URL) at boot: register nothing, so Sidekiq's middleware chains stay
          # as they were (a middleware, even an idle one, costs Sidekiq ~10 us per job).
          log_status
          @installed = false # a later install! after enabling may still register
          return configuration
        end
        ::Sidekiq.configure_client { |cfg| install_client(cfg) }
        ::Sidekiq.configure_server do |cfg|
          install_client(cfg)
          install_server(cfg)
        end
        register_at_exit
        log_status
        configuration
      end

      def installed?
        @installed
      end

      # Client middleware only, on a given Sidekiq config (the module on 6.x, a Sidekiq::Config on 7+).
      def install_client(cfg = Compat.default_config)
        cfg.client_middleware do |chain|
          chain.add Middleware::Client unless chain.exists?(Middleware::Client)
        end
      end

      # Server middleware, death handler and lifecycle hooks on a given Sidekiq config. Idempotent.
      def install_server(cfg = Compat.default_config)
        first = @mutex.synchronize do
          @server_configs ||= []
          next false if @server_configs.any? { |c| c.equal?(cfg) }
          @server_configs << cfg
          true
        end
        return unless first
        cfg.server_middleware do |chain|
          unless chain.exists?(Middleware::Server)
            chain.respond_to?(:prepend) ? chain.prepend(Middleware::Server) : chain.add(Middleware::Server)
          end
        end
        handlers = cfg.respond_to?(:death_handlers) ? cfg.death_handlers : ::Sidekiq.death_handlers
        handlers << Middleware::DEATH_HANDLER unless handlers.include?(Middleware::DEATH_HANDLER)
        install_lifecycle(cfg)
      end

      # Async buffer: wait until sent (or timeout). Sync mode: no-op.
      def flush(timeout = configuration.shutdown_timeout)
        @reporter ? @reporter.flush(timeout) : true
      end

      # Final flush; called at exit (and on Sidekiq 8's :exit event). Idempotent.
      def shutdown(timeout = configuration.shutdown_timeout)
        stop_heartbeat
        @reporter ? @reporter.shutdown(timeout) : true
      end

      def stats
        @reporter ? @reporter.stats : {}
      end

      # ---- reporting entry points used by the middleware; none of them ever raises ----

      # What the server middleware computes once per job run: the shared JSON fragment and the jid JSON.
      RunInfo = Struct.new(:job_id, :job_id_json, :fragment, :queue, :args_json)

      # marked: the job carries MARK (see Middleware::Client): its events leave out what its queued
      # event gave (class, queue, arguments, created_at).
      def run_info(job, queue, args_json = :encode, marked = job.key?(MARK))
        c = configuration
        args_json = c.send_arguments && !marked ? Events.arguments_json(job["args"]) : nil if args_json == :encode
        RunInfo.new(job["jid"].to_s, Events.job_id_json(job),
          Events.run_fragment(job, queue, context, Compat.tid, args_json, marked), queue, args_json)
      rescue StandardError => e
        report_error(e)
        nil
      end

      # Async mode: a job run begins. Returns its row (Reporter::ROW_COLUMNS, with the start time in
      # started_at_us), made of values the job cannot change afterwards (the arguments are encoded
      # now), and leaves it in this thread's slot. Nothing is sent yet: the run's end sends one row
      # that carries both times, and the service records started and succeeded from it. A run still
      # going after started_delay is announced by the sender thread (Reporter#announce_running).
      # Runs for every job (a no-op job costs Sidekiq ~70 us): one Thread.current, few calls.
      def begin_run(reporter, job, queue, started_at_us = ::Process.clock_gettime(::Process::CLOCK_REALTIME, :microsecond))
        th = Thread.current
        args = configuration.send_arguments ? Events.arguments_json(job["args"], th[Events::GENERATOR_KEY] || Events.row_generator) : nil
        klass = job["class"]
        klass = klass.to_s unless klass.is_a?(String) || klass.nil?
        rc = job["retry_count"]
        rc = Events.retry_count(rc) unless rc.nil? || rc.is_a?(Integer)
        row = [nil, job["jid"], nil, klass, queue, args, th["sidekiq_tid"] || Compat.tid, rc, Events.epoch_us(job["enqueued_at"]),
          Events.epoch_us(job["created_at"]), nil, started_at_us]
        th[RUN_KEY] = row
        reporter.watch_runs
        row
      rescue StandardError => e
        report_error(e)
        nil
      end

      # Async mode, a marked job's run raised (see Middleware::Server): its started event goes now,
      # then the failure events as objects, without what its queued event gave.
      def marked_run_failed(reporter, run, worker, job, queue, exception)
        t1 = ::Process.clock_gettime(::Process::CLOCK_REALTIME, :microsecond)
        Thread.current[RUN_KEY] = nil
        reporter.push_row(Events.started_row(run))
        elapsed = (t1 - run[7]) / 1000.0
        report_failure(run_info(job, queue, :encode, true), worker, job, exception, elapsed.negative? ? 0.0 : elapsed)
      rescue StandardError => e
        report_error(e)
      end

      # Async mode: the run ended well; its row becomes the succeeded event, with its end time and
      # duration (end - start, never negative when the clock stepped back), and goes to the buffer as
      # it is (the sender thread encodes it).
      def succeeded_row(reporter, row)
        Thread.current[RUN_KEY] = nil
        t1 = ::Process.clock_gettime(::Process::CLOCK_REALTIME, :microsecond)
        row[0] = "succeeded"
        row[2] = t1
        row[10] = t1 > row[11] ? t1 - row[11] : 0
        reporter.push_row(row)
      rescue StandardError => e
        report_error(e)
      end

      # Async mode: the run raised; its started event goes now (the failure events follow as objects).
      def end_run_failed(reporter, row)
        Thread.current[RUN_KEY] = nil
        reporter.push_row(Events.started_row(row)) if row
      rescue StandardError => e
        report_error(e)
      end

      # True when the event was sent (sync) or buffered (async).
      def report_enqueued(job, queue)
        r = reporter
        return false unless r.active?
        r.publish(Events.enqueued(job, queue, context))
      rescue StandardError => e
        report_error(e)
        false
      end

      def report_started(run)
        return unless run
        reporter.publish_json(run.job_id, "started", Events.event_json("started", run.job_id_json, Events.now_iso, run.fragment))
      rescue StandardError => e
        report_error(e)
      end

      def report_succeeded(run, duration_ms)
        return unless run
        reporter.publish_json(run.job_id, "succeeded",
          Events.event_json("succeeded", run.job_id_json, Events.now_iso, run.fragment, Events.duration_fragment(duration_ms)))
      rescue StandardError => e
        report_error(e)
      end

      def report_failure(run, worker, job, exception, duration_ms)
        return unless run
        r = reporter
        at = Events.now_iso # failed and retrying happen at the same moment
        if Compat.shutdown_exception?(exception)
          r.publish_json(run.job_id, "interrupted",
            Events.event_json("interrupted", run.job_id_json, at, run.fragment, Events.duration_fragment(duration_ms)))
          return
        end
        ctx = context
        will_retry = Compat.will_retry?(worker, job, max_retries: Compat.max_retries(configuration.max_retries))
        r.publish_json(run.job_id, "failed", Events.event_json("failed", run.job_id_json, at, run.fragment,
          Events.error_fragment(exception, ctx, will_retry, duration_ms)))
        if will_retry
          # Sent with the retry_count Sidekiq's retry handler is about to store (0 after the first failure),
          # i.e. the count of the retry that is now scheduled; the service reads retrying/dead that way.
          next_count = job["retry_count"].nil? ? 0 : job["retry_count"].to_i + 1
          ev = Events.retrying(job.merge("retry_count" => next_count), run.queue, exception, ctx, at: at,
            tid: Compat.tid, args_json: run.args_json)
          r.publish_json(run.job_id, "retrying", Events.encode(ev))
        end
      rescue StandardError => e
        report_error(e)
      end

      def report_dead(job, exception)
        r = reporter
        return unless r.active?
        r.publish(Events.dead(job, exception, context))
      rescue StandardError => e
        report_error(e)
      end

      def report_process(state)
        return unless configuration.process_events
        r = reporter
        return unless r.active?
        r.publish_process(Events.process(state, process_context))
      rescue StandardError => e
        report_error(e)
      end

      # The fields every process event of this Sidekiq server carries: Sidekiq's identity (the
      # service joins it with Sidekiq's processes set; the job events' hostname and pid with the
      # rest), the boot time (a new identity's life), versions and settings. Once per process.
      def process_context
        pc = @process_context
        return pc if pc && pc[:pid] == ::Process.pid
        @booted_at_us = nil unless @booted_pid == ::Process.pid
        queues = Array(Compat.setting(:queues)).map(&:to_s).reject(&:empty?).uniq
        pc = context.select { |k, _| %i[instance hostname pid].include?(k) }.merge(
          identity: Compat.identity, started_at_us: booted_at_us, sidekiq_version: ::Sidekiq::VERSION.to_s,
          client_version: VERSION, concurrency: Compat.setting(:concurrency), queues: queues.empty? ? nil : queues,
          tag: Compat.setting(:tag)
        )
        pc[:concurrency] = nil unless pc[:concurrency].is_a?(Integer)
        pc[:tag] = nil if pc[:tag].to_s.empty?
        @process_context = pc.freeze
      end

      # Starts this Sidekiq server's heartbeat (its :startup hook): every heartbeat_interval seconds a
      # "heartbeat" process event. Async mode: the sender thread pushes it into its next batch (no
      # thread of its own); sync mode: one small timer thread. Stops with shutdown.
      def start_heartbeat
        c = configuration
        interval = c.heartbeat_interval.to_f
        return false unless c.process_events && interval.positive?
        r = reporter
        return false unless r.active?
        if c.async?
          r.beat_every(interval) { Events.encode(Events.process(:heartbeat, process_context)) }
        else
          start_heartbeat_timer(interval)
        end
        true
      rescue StandardError => e
        report_error(e)
        false
      end

      def stop_heartbeat
        t = @heartbeat_thread
        @heartbeat_thread = nil
        return unless t&.alive?
        t[:stop] = true
        t.wakeup
        t.join(1)
      rescue ThreadError, StandardError
        nil
      end

      # On a server's boot (in a thread of its own: boot never waits for the service). See Deploy.
      def report_deploy(redis = ::Sidekiq.method(:redis))
        r = reporter
        return nil unless r.active?
        Deploy.mark(r, redis)
      rescue StandardError => e
        report_error(e)
        nil
      end

      private

      # Per-process event fields, built once per configuration and process (frozen, shared).
      def context
        c = configuration
        ctx = @context
        return ctx if ctx && ctx[:pid] == ::Process.pid && @context_for.equal?(c)
        ctx = {
          hostname: c.hostname_value, pid: ::Process.pid, backtrace_lines: c.backtrace_lines,
          send_arguments: c.send_arguments, send_payload: c.send_payload
        }
        ctx[:instance] = c.instance_name if c.instance_name
        ctx[:static_fragment] = Events.static_fragment(ctx)
        @context_for = c
        @context = ctx.freeze
      end

      def install_lifecycle(cfg)
        return unless cfg.respond_to?(:on)
        # Async mode: the sender thread from boot on, so that a long first run is announced (a
        # marked job's run does not check for the thread; Reporter#push_run starts it too).
        cfg.on(:startup) { reporter.watch_runs if reporter.rows? && reporter.active? } if configuration.async?
        if configuration.revision
          cfg.on(:startup) do
            Thread.new { report_deploy }.tap { |t| t.report_on_exception = false }
          end
        end
        if configuration.process_events
          booted_at_us # the life starts before any job runs
          cfg.on(:startup) do
            report_process(:startup)
            start_heartbeat
          end
          # the heartbeat goes on after shutdown until the process exits: the service then knows the
          # jobs it still runs are being finished, not lost
          %i[quiet shutdown].each do |ev|
            cfg.on(ev) { report_process(ev) }
          end
        end
        # Sidekiq 8 fires :exit after every job has finished: the right moment for the final flush.
        # (6.x/7.x: the at_exit hook does it, after the CLI's exit(0).)
        begin
          cfg.on(:exit) do
            report_process(:exit)
            shutdown
          end
        rescue ArgumentError
          nil
        end
      end

      # When this process's life began, as integer epoch microseconds (once per process).
      def booted_at_us
        return @booted_at_us if @booted_at_us && @booted_pid == ::Process.pid
        @booted_pid = ::Process.pid
        @booted_at_us = ::Process.clock_gettime(::Process::CLOCK_REALTIME, :microsecond)
      end

      def start_heartbeat_timer(interval)
        stop_heartbeat
        @heartbeat_thread = Thread.new do
          th = Thread.current
          loop do
            sleep interval
            break if th[:stop]
            report_process(:heartbeat)
          end
        end
        @heartbeat_thread.name = "sidekiq-supervisor-heartbeat" if @heartbeat_thread.respond_to?(:name=)
        @heartbeat_thread.report_on_exception = false
      end

      def register_at_exit
        @mutex.synchronize do
          return if @at_exit_registered
          @at_exit_registered = true
        end
        at_exit { shutdown }
      end

      def log_status
        c = configuration
        msg = if c.enabled?
          "sidekiq-supervisor #{VERSION}: reporting to #{c.base_uri} (#{c.mode} mode)"
        else
          "sidekiq-supervisor #{VERSION}: disabled (#{c.base_uri ? "SIDEKIQ_SUPERVISOR_ENABLED=false" : "no SIDEKIQ_SUPERVISOR_URL"})"
        end
        reporter.log(:info, msg)
      end

      def report_error(e)
        @reporter&.log(:warn, "sidekiq-supervisor: internal error: #{e.class}: #{e.message}")
      rescue StandardError
        nil
      end
    end
  end
end
