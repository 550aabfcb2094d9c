# frozen_string_literal: true

require "json"
require "logger"
require "uri"

module Sidekiq
  module Supervisor
    # Delivers events: synchronously (one POST per event to /api/v1/jobs/:jid/events, on the job's
    # thread) or asynchronously (buffered, batched to /api/v1/events by a background thread).
    # Never raises to its caller; delivery problems are counted and logged (rate-limited).
    class Reporter
      JOB_EVENTS_PATH = "/api/v1/jobs/%s/events"
      BATCH_PATH = "/api/v1/events"
      # Async mode sends a job's started and succeeded events as compact rows (the batch route's
      # columns + rows form): an Array of plain values (integer epoch microseconds, no date
      # formatting) made on the job's thread and left as it is in the batch; the sender thread
      # encodes a batch's rows in one call of the C generator. A marked job's row (see
      # Middleware::Client) leaves job_class, queue, arguments and created_at_us null: its queued
      # event gave them.
      ROW_COLUMNS = %w[type job_id occurred_at_us job_class queue arguments tid retry_count enqueued_at_us
        created_at_us duration_us started_at_us].freeze
      COLUMNS_JSON = JSON.generate(ROW_COLUMNS).freeze
      # A batch whose rows all come from marked jobs (Events::RUN_SIZE: what a run adds) sends these
      # columns only: each column left out is ~200 instructions of the C generator less per row.
      RUN_COLUMNS = %w[type job_id occurred_at_us tid retry_count enqueued_at_us duration_us started_at_us].freeze
      RUN_COLUMNS_JSON = JSON.generate(RUN_COLUMNS).freeze
      RUN_DEFAULTS_OPEN = '{"type":"succeeded",'

      attr_reader :config, :transport

      def initialize(config)
        @config = config
        @transport = Transport.new(config)
        @mutex = Mutex.new
        @counts = Hash.new(0)
        @consecutive_failures = 0
        @circuit_open_until = 0.0
        @last_log = {}
        @suppressed = Hash.new(0)
        @dispatcher = nil
        @shut_down = false
        @runs = []
        @runs_limit = config.effective_batch_size
        @rows = config.async?
        @enabled = config.enabled?
        @skip_in_testing = config.skip_in_testing
      end

      # Called for every job: no method call unless Sidekiq::Testing is loaded (each call costs ~250
      # instructions). Whether reporting is on is read once, as the mode: Supervisor.configure makes a
      # new reporter.
      def active?
        @enabled && !(@skip_in_testing && defined?(::Sidekiq::Testing) && testing_mode?)
      end

      # Async mode: the server middleware sends its started/succeeded events as rows (push_row).
      # (The mode is read once: Supervisor.configure makes a new reporter.)
      def rows?
        @rows
      end

      # Report one event (a Hash from Events). Returns true when sent (sync) or buffered (async).
      def publish(event)
        return false unless active?
        if config.async?
          # Buffered as JSON text: one String per event instead of a Hash of ~15 objects kept alive
          # until sent (far less GC work); the batch body is then a plain join.
          ok = dispatcher.push(Events.encode(event))
          warn_limited(:buffer_full, "sidekiq-supervisor: async buffer full (#{config.buffer_size} events), dropping events") unless ok
          ok
        else
          deliver_now(event)
        end
      rescue StandardError => e
        count(:errors)
        warn_limited(:publish, "sidekiq-supervisor: could not report #{event && event["type"]} event: #{e.class}: #{e.message}")
        false
      end

      # Report one event given as JSON text (the middleware's hot path). job_id is needed for the sync route.
      def publish_json(job_id, type, json)
        return false unless active?
        if config.async?
          ok = dispatcher.push(json)
          warn_limited(:buffer_full, "sidekiq-supervisor: async buffer full (#{config.buffer_size} events), dropping events") unless ok
          ok
        else
          deliver_now_json(job_id, type, json)
        end
      rescue StandardError => e
        count(:errors)
        warn_limited(:publish, "sidekiq-supervisor: could not report #{type} event: #{e.class}: #{e.message}")
        false
      end

      # Async mode's hot path: one event as a row (an Array in ROW_COLUMNS order, not to be changed
      # afterwards). Never blocks; false when dropped.
      def push_row(row)
        ok = dispatcher.push(row)
        warn_limited(:buffer_full, "sidekiq-supervisor: async buffer full (#{config.buffer_size} events), dropping events") unless ok
        ok
      end

      # Async mode's hot path for a marked job's run that ended (Middleware::Server; Events::RUN_SIZE
      # values, not to be changed afterwards by its thread): appended to a plain Array (one C call:
      # atomic under the GVL, no lock), handed to the dispatcher as one batch when batch_size runs are
      # there (take_runs), and by the sender thread before each wait and on flush. The first run
      # after each hand-over checks that the sender thread runs (a new process, a fork). Never blocks.
      def push_run(run)
        runs = @runs
        runs << run
        n = runs.size
        if n >= @runs_limit
          take_runs
        elsif n == 1
          dispatcher.ensure_running
        end
        true
      end

      # The runs waiting in push_run's Array to the dispatcher, as one batch (dropped and counted if
      # the buffer has no room). Array#shift(n) takes exactly the n oldest, whatever is pushed meanwhile.
      # (A forked child also sends the runs its parent had not handed over yet: the service drops an
      # event it already has, by jid, type, attempt and time.)
      def take_runs
        n = @runs.size
        return true if n.zero?
        batch = Batch.new.concat_runs(@runs.shift(n))
        ok = dispatcher.push_batch(batch)
        warn_limited(:buffer_full, "sidekiq-supervisor: async buffer full (#{config.buffer_size} events), dropping events") unless ok
        ok
      rescue StandardError => e
        count(:errors)
        warn_limited(:publish, "sidekiq-supervisor: could not buffer runs: #{e.class}: #{e.message}")
        false
      end

      # Async mode: makes sure the sender thread runs (it announces long runs even before anything
      # was pushed). A few instructions when it does.
      def watch_runs
        return if @watching == ForkTracker.token # started in this process (push restarts a dead thread)
        dispatcher.ensure_running
        @watching = ForkTracker.token
      end

      # Sender thread, between batches: the started event of every run in progress for longer than
      # started_delay, once per run (runs sit in their thread's slot, see Supervisor.begin_run).
      def announce_running
        take_runs
        limit = ::Process.clock_gettime(::Process::CLOCK_REALTIME, :microsecond) - (config.started_delay.to_f * 1_000_000)
        seen = {}.compare_by_identity
        Thread.list.each do |thread|
          row = thread[Supervisor::RUN_KEY]
          # (a marked job's run stays in its slot once ended, with its end time: skipped)
          next unless row.is_a?(Array) && (started = Events.run_started_us(row)).is_a?(Integer)
          next if row.size == Events::RUN_SIZE && row[2]
          seen[row] = started
          next if @announced&.key?(row) || started > limit
          push_row(Events.started_row(row))
        end
        @announced = seen.select { |row, started| @announced&.key?(row) || started <= limit }
      rescue StandardError => e
        warn_limited(:announce, "sidekiq-supervisor: could not announce running jobs: #{e.class}: #{e.message}")
      end

      # Async mode: every interval seconds the sender thread pushes make.call (a process heartbeat
      # as JSON text) into its buffer, with the rest of its next batch. Starts the thread.
      def beat_every(interval, &make)
        @beat = [interval.to_f, make]
        @next_beat = 0.0
        dispatcher.ensure_running
      end

      # Sender thread, before it waits for each batch (at least every flush_interval).
      def on_tick
        announce_running
        beat, make = @beat
        return unless beat
        t = now
        return if t < @next_beat
        @next_beat = t + beat
        push_beat(make.call)
      rescue StandardError => e
        warn_limited(:beat, "sidekiq-supervisor: could not send a heartbeat: #{e.class}: #{e.message}")
      end

      # Process lifecycle events go out at once as a one-element batch, in both modes.
      def publish_process(event)
        return false unless active?
        result = deliver_batch([Events.encode(event)])
        result == :ok
      rescue StandardError => e
        warn_limited(:process, "sidekiq-supervisor: process event not delivered: #{e.class}: #{e.message}")
        false
      end

      # Async mode: wait (up to timeout) until buffered events are sent. Sync mode: nothing to do.
      def flush(timeout = config.shutdown_timeout)
        take_runs unless @runs.empty?
        return true unless @dispatcher
        @dispatcher.flush(timeout)
      rescue StandardError
        false
      end

      # Final flush and stop of the background thread; closes idle connections. Idempotent.
      def shutdown(timeout = config.shutdown_timeout)
        ok = true
        take_runs unless @runs.empty?
        if @dispatcher
          ok = @dispatcher.shutdown(timeout)
          lost = @dispatcher.stats[:dropped_shutdown]
          log(:warn, "sidekiq-supervisor: #{lost} events not delivered at shutdown") if !ok && lost.positive?
        end
        @transport.close
        @shut_down = true
        ok
      rescue StandardError => e
        log(:warn, "sidekiq-supervisor: shutdown flush failed: #{e.class}: #{e.message}")
        false
      end

      # Counters: sent, failed (delivery errors), dropped_* (never delivered), rejected (4xx) ...
      def stats
        s = @mutex.synchronize { @counts.dup }
        s[:mode] = config.mode
        if @dispatcher
          d = @dispatcher.stats
          s[:sent] = s[:sent].to_i + d[:sent]
          s[:buffered] = d[:buffered] + @runs.size
          s[:in_flight] = d[:in_flight]
          s[:batches] = d[:batches]
          s[:failed_batches] = d[:failed_batches]
          s[:dropped_full] = d[:dropped_full]
          s[:dropped_shutdown] = d[:dropped_shutdown]
          s[:dropped_closed] = d[:dropped_closed]
          s[:rejected] = s[:rejected].to_i + d[:dropped_rejected]
        end
        s[:dropped] = %i[dropped_full dropped_shutdown dropped_closed dropped_circuit].sum { |k| s[k].to_i }
        s
      end

      def dispatcher
        @dispatcher || @mutex.synchronize do
          @dispatcher ||= AsyncDispatcher.new(
            capacity: config.buffer_size, batch_size: config.effective_batch_size,
            flush_interval: config.flush_interval, max_backoff: config.max_backoff,
            deliver: method(:deliver_batch), new_batch: -> { Batch.new }, tick: method(:on_tick),
            on_error: ->(e) { warn_limited(:thread, "sidekiq-supervisor: background thread error: #{e.class}: #{e.message}") }
          )
        end
      end

      # Sync mode: one event, one request, on the caller's thread.
      def deliver_now(event)
        deliver_now_json(event["job_id"], event["type"], Events.encode(event))
      end

      def deliver_now_json(job_id, type, json)
        if circuit_open?
          count(:dropped_circuit)
          return false
        end
        path = format(JOB_EVENTS_PATH, URI.encode_www_form_component(job_id.to_s))
        res = transport.post(path, json)
        if res.success?
          success
          count(:sent)
          true
        elsif res.status == 408 || res.status == 429 || res.status >= 500
          failure("HTTP #{res.status} for #{type} event")
          false
        else
          success # the service answered; the event itself was refused
          count(:rejected)
          warn_limited(:"rejected_#{res.status}", "sidekiq-supervisor: #{type} event rejected with HTTP #{res.status}: #{truncate(res.body)}")
          false
        end
      rescue Transport::Error => e
        failure(e.message)
        false
      end

      # A batch, filled event by event: event objects as JSON text ("{...}") appended to one String,
      # rows (Arrays in ROW_COLUMNS order) kept as they are until the sender thread encodes them all
      # at once.
      class Batch
        attr_reader :size

        def initialize
          @events = String.new(capacity: 4096, encoding: Encoding::UTF_8)
          @rows = []
          @full_rows = false
          @size = 0
        end

        # Marked jobs' runs (Events::RUN_SIZE each) at once; the batch takes the Array as it is.
        def concat_runs(runs)
          if @rows.empty?
            @rows = runs
          else
            @rows.concat(runs)
          end
          @size += runs.size
          self
        end

        def <<(entry)
          if entry.is_a?(Array)
            @rows << entry
            @full_rows = true unless entry.size == Events::RUN_SIZE
          else
            @events << "," unless @events.empty?
            @events << entry
          end
          @size += 1
          self
        end

        # Marked jobs' runs become rows here, on the sender thread (Events.finish_run!): RUN_COLUMNS
        # when every row is one, else ROW_COLUMNS for all.
        def body(defaults_json)
          rows = nil
          unless @rows.empty?
            tids = {}.compare_by_identity
            list = @full_rows ? @rows.map { |r| Events.full_row(r, tids) } : Events.finish_runs!(@rows, tids)
            rows = Events.rows_json(list, Events.row_generator)
            # marked runs' rows leave their type null when they succeeded: the defaults give it
            defaults_json = defaults_json.sub("{", RUN_DEFAULTS_OPEN) unless @full_rows
          end
          out = String.new(capacity: @events.bytesize + (rows ? rows.bytesize : 0) + 512, encoding: Encoding::UTF_8)
          out << "{\"events\":[" << @events << "]"
          out << ",\"columns\":" << (@full_rows ? COLUMNS_JSON : RUN_COLUMNS_JSON) << ",\"defaults\":" << defaults_json << ",\"rows\":" << rows if rows
          out << "}"
        end
      end

      # entries: JSON texts of events, or rows (Arrays).
      def self.batch_of(entries)
        entries.each_with_object(Batch.new) { |e, b| b << e }
      end

      # Async mode (and process events): POST to the batch route. batch: a Batch, or an Array of
      # entries (JSON texts of events, or rows as Arrays). Returns :ok, :drop (permanently
      # refused) or :retry (transient failure).
      def deliver_batch(batch)
        batch = Reporter.batch_of(batch) if batch.is_a?(Array)
        return :ok if batch.size.zero?
        body = batch.body(defaults_json)
        res = transport.post(BATCH_PATH, body, read_timeout: config.batch_read_timeout)
        if res.success?
          @consecutive_failures = 0
          :ok
        elsif res.status == 413 && batch.size > 1
          entries = decode_batch(body)
          half = entries.size / 2
          a = deliver_batch(entries[0...half])
          b = deliver_batch(entries[half..])
          return :retry if a == :retry || b == :retry
          (a == :ok || b == :ok) ? :ok : :drop
        elsif res.status == 400 && batch.size > 1 && (rest = without_invalid(body, res.body))
          dropped = batch.size - rest.size
          warn_limited(:invalid, "sidekiq-supervisor: #{dropped} invalid event(s) dropped from a batch: #{truncate(res.body)}")
          count(:rejected, dropped)
          deliver_batch(rest)
        elsif res.status == 408 || res.status == 429 || res.status >= 500
          count(:failed)
          warn_limited(:batch_failed, "sidekiq-supervisor: batch of #{batch.size} events failed with HTTP #{res.status}; will retry")
          :retry
        else
          warn_limited(:"batch_rejected_#{res.status}", "sidekiq-supervisor: batch of #{batch.size} events rejected with HTTP #{res.status}: #{truncate(res.body)}")
          :drop
        end
      rescue Transport::Error => e
        count(:failed)
        warn_limited(:batch_failed, "sidekiq-supervisor: batch of #{batch.size} events not delivered (#{e.message}); will retry")
        :retry
      end

      # The fields every row of this process shares (hostname, pid, instance), as JSON.
      def defaults_json
        pid = ::Process.pid
        return @defaults_json if @defaults_pid == pid
        h = {"hostname" => config.hostname_value, "pid" => pid}
        h["instance"] = config.instance_name if config.instance_name
        @defaults_pid = pid
        @defaults_json = Events.encode(h)
      end



      def log(level, message)
        logger.public_send(level, message)
      rescue StandardError
        nil
      end

      private

      def push_beat(json)
        dispatcher.push(json)
      end

      def testing_mode?
        config.skip_in_testing && defined?(::Sidekiq::Testing) && ::Sidekiq::Testing.respond_to?(:enabled?) &&
          ::Sidekiq::Testing.enabled?
      end

      def count(key, n = 1)
        @mutex.synchronize { @counts[key] += n }
      end

      def now
        ::Process.clock_gettime(::Process::CLOCK_MONOTONIC)
      end

      def circuit_open?
        @circuit_open_until > now
      end

      def success
        @consecutive_failures = 0 unless @consecutive_failures.zero?
      end

      def failure(message)
        count(:failed)
        opened = false
        @mutex.synchronize do
          @consecutive_failures += 1
          if config.failure_cooldown.to_f.positive? && @consecutive_failures >= config.failure_threshold.to_i
            @circuit_open_until = now + config.failure_cooldown.to_f
            @consecutive_failures = 0
            opened = true
          end
        end
        suffix = opened ? "; pausing reports for #{config.failure_cooldown}s" : ""
        warn_limited(:delivery, "sidekiq-supervisor: event not delivered (#{message})#{suffix}")
      end

      # An encoded body back to entries (only on the rare 413/400 paths): events as JSON texts, rows as Arrays.
      def decode_batch_parts(body)
        parsed = JSON.parse(body)
        [parsed["events"].map { |e| Events.encode(e) }, Array(parsed["rows"])]
      end

      def decode_batch(body)
        events, rows = decode_batch_parts(body)
        events + rows
      end

      # The entries left once those a 400 body names ("events[3].occurred_at", "rows[0].job_id")
      # are taken out; nil when it names none (then nothing can be salvaged).
      def without_invalid(body, error_body)
        named = error_body.to_s.scan(/(events|rows)\[(\d+)\]/).uniq
        return nil if named.empty?
        events, rows = decode_batch_parts(body)
        bad = {"events" => [], "rows" => []}
        named.each { |list, i| bad[list] << i.to_i }
        kept = events.reject.with_index { |_e, i| bad["events"].include?(i) } +
          rows.reject.with_index { |_r, i| bad["rows"].include?(i) }
        kept.size < events.size + rows.size ? kept : nil
      end

      def truncate(body)
        s = body.to_s
        s.size > 300 ? "#{s[0, 300]}..." : s
      end

      def warn_limited(key, message)
        t = now
        emit = false
        suppressed = 0
        @mutex.synchronize do
          last = @last_log[key]
          if last.nil? || t - last >= config.log_interval.to_f
            @last_log[key] = t
            suppressed = @suppressed.delete(key).to_i
            emit = true
          else
            @suppressed[key] += 1
          end
        end
        return unless emit
        message += " (#{suppressed} similar messages suppressed)" if suppressed.positive?
        log(:warn, message)
      end

      def logger
        config.logger || (defined?(::Sidekiq.logger) && ::Sidekiq.logger) || (@fallback_logger ||= ::Logger.new($stderr))
      end
    end
  end
end
