# frozen_string_literal: true

module Sidekiq
  module Supervisor
    module Middleware
      # Client middleware (runs wherever Sidekiq::Client pushes: producers, jobs that enqueue jobs, and
      # Sidekiq's own scheduler/retry poller when it moves a due job to its queue).
      # Reports "queued", or "scheduled" (with scheduled_at) when the job has a future `at`.
      class Client
        include ::Sidekiq::ClientMiddleware if defined?(::Sidekiq::ClientMiddleware)

        def call(_job_class, job, queue, _redis_pool = nil)
          result = yield
          # A falsy result means a later middleware stopped the push: nothing was enqueued.
          Supervisor.report_enqueued(job, queue) if result
          result
        end
      end

      # Server middleware: started, then succeeded, or failed (+ retrying when Sidekiq will retry),
      # or interrupted when Sidekiq's hard shutdown stops the job. Registered first in the chain, so it
      # sees the outcome that Sidekiq's retry logic sees.
      class Server
        include ::Sidekiq::ServerMiddleware if defined?(::Sidekiq::ServerMiddleware)

        EMPTY_ARGS = [].freeze

        REALTIME = ::Process::CLOCK_REALTIME
        MS_THRESHOLD = Events::MS_THRESHOLD

        def call(worker, job, queue)
          reporter = Supervisor.reporter
          return yield unless reporter.active?

          if reporter.rows?
            # Async mode, the hot path (a no-op job costs Sidekiq ~70 us, so every microsecond here
            # counts): the run's row (Reporter::ROW_COLUMNS) is made before the job runs, from values
            # the job cannot change afterwards (its arguments are encoded now), and left in this
            # thread's slot, where the sender thread finds runs that last longer than started_delay.
            # When the job returns, the row gets its end time and goes into the buffer as JSON text:
            # one row carries both the started and the succeeded event. Written inline, with one
            # clock for both times (duration = end - start), because method calls are a good part of
            # the cost at this scale; anything unusual takes Supervisor.begin_run's careful path.
            th = ::Thread.current
            t0 = ::Process.clock_gettime(REALTIME, :microsecond)
            row = begin
              gen = th[Events::GENERATOR_KEY] || Events.row_generator
              enq = job["enqueued_at"]
              enq = enq.is_a?(Float) && enq >= 0 && enq < MS_THRESHOLD ? (enq * 1e6).round : Events.epoch_us(enq)
              created = job["created_at"]
              created = created.is_a?(Float) && created >= 0 && created < MS_THRESHOLD ? (created * 1e6).round : Events.epoch_us(created)
              rc = job["retry_count"]
              rc = Events.retry_count(rc) unless rc.nil? || rc.is_a?(Integer)
              klass = job["class"]
              klass = klass.to_s unless klass.is_a?(String) || klass.nil?
              args = reporter.send_arguments? ? gen.generate(job["args"] || EMPTY_ARGS) : nil
              [nil, job["jid"], nil, klass, queue, args, th["sidekiq_tid"] || Compat.tid, rc, enq, created, nil, t0]
            rescue StandardError
              Supervisor.begin_run(reporter, job, queue, t0) # bad encodings, odd values: the careful path
            end
            th[Supervisor::RUN_KEY] = row
            reporter.watch_runs
            begin
              result = yield
            rescue Exception => e # rubocop:disable Lint/RescueException -- report, then re-raise untouched
              elapsed = (::Process.clock_gettime(REALTIME, :microsecond) - t0) / 1000.0
              Supervisor.end_run_failed(reporter, row)
              Supervisor.report_failure(Supervisor.run_info(job, queue, row ? row[5] : :encode), worker, job, e,
                elapsed.negative? ? 0.0 : elapsed)
              raise
            end
            th[Supervisor::RUN_KEY] = nil
            if row
              begin
                t1 = ::Process.clock_gettime(REALTIME, :microsecond)
                row[0] = "succeeded"
                row[2] = t1
                row[10] = t1 > t0 ? t1 - t0 : 0 # a clock stepped back: no negative duration
                reporter.push_row(Events.row_json(row, gen || Events.row_generator))
              rescue StandardError => e
                Supervisor.report_internal(e)
              end
            end
            return result
          end

          # Fields shared by this run's events, encoded once, before the job can touch its arguments.
          run = Supervisor.run_info(job, queue)
          Supervisor.report_started(run)
          t0 = ::Process.clock_gettime(::Process::CLOCK_MONOTONIC)
          begin
            result = yield
          rescue Exception => e # rubocop:disable Lint/RescueException -- report, then re-raise untouched
            Supervisor.report_failure(run, worker, job, e, elapsed_ms(t0))
            raise
          end
          Supervisor.report_succeeded(run, elapsed_ms(t0))
          result
        end

        private

        def elapsed_ms(t0)
          (::Process.clock_gettime(::Process::CLOCK_MONOTONIC) - t0) * 1000.0
        end
      end

      # Death handler: Sidekiq calls it when a job dies (retries exhausted, retry disabled, killed
      # by sidekiq_retry_in returning :kill, or discarded on 7.1+/8.x). Signature (job, exception).
      DEATH_HANDLER = ->(job, exception = nil) { Supervisor.report_dead(job, exception) }
    end
  end
end
