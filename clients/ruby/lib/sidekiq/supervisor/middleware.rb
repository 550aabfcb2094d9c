# frozen_string_literal: true

module Sidekiq
  module Supervisor
    module Middleware
      # Client middleware (runs wherever Sidekiq::Client pushes: producers, jobs that enqueue jobs, and
      # Sidekiq's own scheduler/retry poller when it moves a due job to its queue).
      # Reports "queued", or "scheduled" (with scheduled_at) when the job has a future `at`, and
      # marks the job (MARK) when the event was sent or buffered: the server middleware then sends
      # only what each run adds.
      class Client
        include ::Sidekiq::ClientMiddleware if defined?(::Sidekiq::ClientMiddleware)

        def call(_job_class, job, queue, _redis_pool = nil)
          result = yield
          # A falsy result means a later middleware stopped the push: nothing was enqueued. Sidekiq
          # (6.x-8.x Client#push) writes the hash the chain returns to Redis after the chain has
          # returned, so a mark added here is stored with the job; the reported payload has none.
          if result && Supervisor.report_enqueued(job, queue)
            (result.is_a?(Hash) ? result : job)[MARK] = 1
          end
          result
        end
      end

      # Server middleware: started, then succeeded, or failed (+ retrying when Sidekiq will retry),
      # or interrupted when Sidekiq's hard shutdown stops the job. Registered first in the chain, so it
      # sees the outcome that Sidekiq's retry logic sees.
      class Server
        include ::Sidekiq::ServerMiddleware if defined?(::Sidekiq::ServerMiddleware)

        def call(worker, job, queue)
          reporter = Supervisor.reporter
          return yield unless reporter.active?

          if reporter.rows?
            # Async mode. A marked job (see Middleware::Client; the usual case) costs its thread two
            # clock reads, one small Array (the job's own values as they are, no conversion), the
            # thread slot that lets the sender thread announce a long run, and a
            # push; the sender thread makes the row (Reporter::Batch). Failures take the full path.
            t0 = ::Process.clock_gettime(::Process::CLOCK_REALTIME, :microsecond)
            if job.key?(MARK)
              th = Thread.current
              # Reporter::RUN_COLUMNS order; the sender thread converts the values (Events.finish_runs!)
              run = [nil, job["jid"], nil, th, job["retry_count"], job["enqueued_at"], nil, t0]
              th[RUN_KEY] = run
            else
              # Unmarked (pushed without the client middleware): the run's row carries the job's
              # class, queue and arguments (encoded now, before the job can change them).
              row = Supervisor.begin_run(reporter, job, queue, t0)
            end
            # (one yield for both: a failure's backtrace shows the same line for marked and unmarked jobs)
            begin
              result = yield
            rescue Exception => e # rubocop:disable Lint/RescueException -- report, then re-raise untouched
              if run
                Supervisor.marked_run_failed(reporter, run, worker, job, queue, e)
              else
                elapsed = (::Process.clock_gettime(::Process::CLOCK_REALTIME, :microsecond) - t0) / 1000.0
                Supervisor.end_run_failed(reporter, row)
                Supervisor.report_failure(Supervisor.run_info(job, queue, row ? row[5] : :encode), worker, job, e,
                  elapsed.negative? ? 0.0 : elapsed)
              end
              raise
            end
            if run
              # (the run stays in the slot: with its end time set the sender no longer announces it)
              run[2] = ::Process.clock_gettime(::Process::CLOCK_REALTIME, :microsecond)
              reporter.push_run(run)
            elsif row
              Supervisor.succeeded_row(reporter, row)
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
