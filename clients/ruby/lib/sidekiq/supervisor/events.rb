# frozen_string_literal: true

require "json"
require "time"

module Sidekiq
  module Supervisor
    # Pure functions from Sidekiq job hashes (6.x, 7.x and 8.x shapes) to the service's event objects.
    # Nothing here does I/O; everything is unit-tested with hand-made hashes.
    module Events
      TYPES = %w[queued scheduled started succeeded failed retrying dead interrupted].freeze
      # Sidekiq 8 stores created_at / enqueued_at / failed_at / retried_at as integer milliseconds,
      # 6.x and 7.x as float seconds. Any epoch value above this is taken as milliseconds
      # (1e11 seconds is the year 5138; 1e11 ms is March 1973).
      MS_THRESHOLD = 100_000_000_000

      module_function

      # Epoch seconds (Float/Integer), epoch milliseconds (Integer/Float >= 1e11), Time, or an
      # ISO 8601 string -> ISO 8601 UTC string with microseconds. nil/unparseable -> nil.
      # Hot path (several calls per job): formats from integers with a per-second cache instead of
      # building Time objects (about 10x faster than Time.at(f).utc.iso8601(6)).
      def timestamp(value)
        case value
        when nil then nil
        when Integer
          value.abs >= MS_THRESHOLD ? iso_parts(value.div(1000), (value % 1000) * 1000) : iso_parts(value, 0)
        when Float
          return nil unless value.finite?
          value /= 1000.0 if value.abs >= MS_THRESHOLD
          sec = value.floor
          iso_parts(sec, ((value - sec) * 1_000_000).round)
        when Time then iso_parts(value.to_i, value.usec)
        when String
          s = value.strip
          return nil if s.empty?
          if s.match?(/\A-?\d+(\.\d+)?\z/)
            timestamp(s.include?(".") ? Float(s) : Integer(s, 10))
          else
            Time.iso8601(s).getutc.iso8601(6)
          end
        end
      rescue ArgumentError, TypeError, RangeError
        nil
      end

      # Sidekiq's epoch values (float seconds on 6.x/7.x, integer milliseconds on 8.x) as integer
      # epoch microseconds; nil when absent, not a time, or before 1970.
      def epoch_us(value)
        # the usual case first: Sidekiq 6/7 float seconds (NaN fails both comparisons)
        return (value * 1e6).round if value.is_a?(Float) && value >= 0 && value < MS_THRESHOLD
        us = case value
        when Float then value.finite? ? (value.abs >= MS_THRESHOLD ? value * 1000 : value * 1_000_000).round : nil
        when Integer then value.abs >= MS_THRESHOLD ? value * 1000 : value * 1_000_000
        when String then value.match?(/\A\d+(\.\d+)?\z/) ? epoch_us(value.include?(".") ? Float(value) : Integer(value, 10)) : nil
        end
        us unless us.nil? || us.negative?
      end

      # retry_count as Sidekiq may hold it (an Integer, rarely a numeric String): Integer or nil.
      def retry_count(value)
        return value if value.is_a?(Integer)
        return value.to_i if value.is_a?(Numeric) && value.finite?
        value.to_i if value.is_a?(String) && value.match?(/\A\d+\z/)
      end

      # Wall-clock now as an ISO 8601 UTC string.
      def now_iso
        us = ::Process.clock_gettime(::Process::CLOCK_REALTIME, :microsecond)
        iso_parts(us.div(1_000_000), us % 1_000_000)
      end

      @second_cache = {}.freeze

      def iso_parts(sec, usec)
        if usec >= 1_000_000
          sec += usec.div(1_000_000)
          usec %= 1_000_000
        end
        cache = @second_cache
        prefix = cache[sec]
        unless prefix
          prefix = Time.at(sec).getutc.strftime("%Y-%m-%dT%H:%M:%S").freeze
          fresh = cache.size >= 256 ? {} : cache.dup
          fresh[sec] = prefix
          @second_cache = fresh.freeze # copy-on-write: readers on other threads never see a half-built hash
        end
        format("%s.%06dZ", prefix, usec)
      end

      def dump(obj)
        JSON.generate(obj)
      end

      # The args array as JSON text, exactly as Sidekiq writes it to Redis (Sidekiq.dump_json, i.e.
      # JSON.generate), which is `job['args'].to_json` unless ActiveSupport changed to_json.
      # generator: a JSON::State to reuse (row_generator), else JSON.generate makes one.
      def arguments_json(args, generator = nil)
        args = [] if args.nil?
        generator ? generator.generate(args) : dump(args)
      rescue JSON::GeneratorError, Encoding::UndefinedConversionError, EncodingError
        dump(scrub(args))
      end

      # This thread's JSON generator state, reused: JSON.generate builds a new one per call, which is
      # half of the cost of encoding a short row. (Per thread: a state is not meant to be shared.)
      GENERATOR_KEY = :sidekiq_supervisor_json

      def row_generator
        Thread.current[GENERATOR_KEY] ||= JSON::State.new
      end

      # A marked job's run as its thread leaves it (Middleware::Server; Reporter::RUN_COLUMNS order):
      # [type (nil: succeeded), jid, end time (nil while it runs), Thread, retry_count, enqueued_at,
      # nil, start time], job values as the job holds them. Full rows have ROW_COLUMNS' 12 values.
      RUN_SIZE = 8

      # Start time (epoch microseconds) of a run row or a marked job's run.
      def run_started_us(row)
        row.size == RUN_SIZE ? row[7] : row[11]
      end

      # The started event of a run row (see Supervisor.begin_run) or of a marked job's run: its start
      # time as occurred_at_us. A copy: the job's thread may be filling in the run's end meanwhile.
      def started_row(row)
        started = row.dup
        started[0] = "started"
        if row.size == RUN_SIZE
          started[2] = started[7]
          started[6] = nil
          started[7] = nil
        else
          started[2] = started[11]
          started[10] = nil
          started[11] = nil
        end
        started
      end

      # Sender thread: marked jobs' runs (RUN_SIZE) made into their rows of Reporter::RUN_COLUMNS, in
      # place (their threads have let go of them): the thread's tid (tids: Thread => tid, a cache for
      # one batch), retry_count and enqueued_at as integers, and for a run that ended, duration =
      # end - start (0 when the clock stepped back). Its type stays nil: "succeeded" comes from the
      # body's defaults (a value the C generator need not write per row). A run made into a row
      # already (no Thread in it) is left as it is. One loop, no block or call per row.
      def finish_runs!(runs, tids)
        i = 0
        n = runs.size
        while i < n
          run = runs[i]
          i += 1
          th = run[3]
          next unless th.is_a?(Thread)
          run[3] = (tids[th] ||= Compat.tid_of(th))
          rc = run[4]
          run[4] = retry_count(rc) unless rc.nil? || rc.is_a?(Integer)
          ea = run[5]
          run[5] = ea.is_a?(Float) && ea >= 0 && ea < MS_THRESHOLD ? (ea * 1e6).round : epoch_us(ea)
          next unless run[0].nil?
          t1 = run[2]
          t0 = run[7]
          run[6] = t1 > t0 ? t1 - t0 : 0
        end
        runs
      rescue StandardError
        runs.each { |r| r[3] = nil if r[3].is_a?(Thread) }
        runs
      end

      def finish_run!(run, tids)
        finish_runs!([run], tids)
        run
      end

      # A marked job's run as a row of ROW_COLUMNS (for a batch that also holds full rows).
      def full_row(row, tids)
        return row unless row.size == RUN_SIZE
        r = finish_run!(row, tids)
        [r[0] || "succeeded", r[1], r[2], nil, nil, nil, r[3], r[4], r[5], nil, r[6], r[7]]
      end

      # One row as JSON text; never raises on bad encodings or non-finite floats.
      def row_json(row, generator)
        generator.generate(row)
      rescue JSON::GeneratorError, EncodingError
        dump(scrub(row))
      end

      # A batch's rows as the JSON text of their list, encoded in one call of the C generator on the
      # sender thread; when one row cannot be encoded as it is, each row is encoded on its own.
      def rows_json(rows, generator)
        generator.generate(rows)
      rescue JSON::GeneratorError, EncodingError
        "[#{rows.map { |row| row_json(row, generator) }.join(",")}]"
      end

      # ---- Active Job: what the service stores for a wrapped job, so that it need not unwrap it ----

      ACTIVE_JOB_WRAPPERS = %w[ActiveJob::QueueAdapters::SidekiqAdapter::JobWrapper Sidekiq::ActiveJob::Wrapper].freeze

      # Fields display_class, display_args (JSON text) and active_job_id of a job pushed by Active
      # Job's Sidekiq adapter, computed as the service's unwrapActiveJob does (Sidekiq 7.1+'s
      # JobRecord#display_class / #display_args, whatever Sidekiq runs here: one form in the
      # service); nil for any other job. klass: job["class"] as a String.
      def active_job_fields(job, klass)
        return nil unless ACTIVE_JOB_WRAPPERS.include?(klass)
        args = job["args"]
        serialized = args.is_a?(Array) ? args[0] : nil
        return nil unless serialized.is_a?(Hash) && serialized["job_class"].is_a?(String)
        # Rails pushes the job's Class as "wrapped" (a String once read back from Redis)
        wrapped = job["wrapped"]
        wrapped = wrapped.nil? ? serialized["job_class"] : wrapped.to_s
        raw = serialized["arguments"]
        job_args = raw.is_a?(Array) ? raw.map { |a| display_argument(a) } : []
        display_class, display_args =
          case wrapped
          when "ActionMailer::DeliveryJob"
            [mailer_display_class(raw, wrapped), job_args.drop(3)]
          when "ActionMailer::MailDeliveryJob"
            delivery = job_args[3]
            [mailer_display_class(raw, wrapped), delivery.is_a?(Hash) ? [delivery["params"], delivery["args"]] : []]
          else
            [wrapped, job_args]
          end
        # what the service would refuse (it stores such a job as reported)
        return nil if !display_class.is_a?(String) || display_class.empty? || display_class.bytesize > 1024 ||
          display_class.include?("\0")
        fields = {"display_class" => display_class, "display_args" => encode(display_args)}
        id = serialized["job_id"]
        fields["active_job_id"] = id if id.is_a?(String) && !id.empty? && id.bytesize <= 255
        fields
      end

      # The mailer and its method (Mailer#method), from the serialized arguments as they were.
      def mailer_display_class(raw, wrapped)
        return wrapped unless raw.is_a?(Array)
        raw.first(2).map { |v| v.is_a?(String) ? v : encode(v) }.join("#")
      end

      # JobRecord#deserialize_argument (Sidekiq 7.1+): a GlobalID as its gid string, _aj_ keys dropped.
      def display_argument(arg)
        case arg
        when Array then arg.map { |a| display_argument(a) }
        when Hash
          return arg["_aj_globalid"] if arg.size == 1 && arg.key?("_aj_globalid")
          arg.each_with_object({}) { |(k, v), h| h[k] = display_argument(v) unless k.to_s.start_with?("_aj_") }
        else arg
        end
      end

      # Common fields of every job event. ctx holds the per-process fields (hostname, pid, instance,
      # backtrace_lines, send_arguments, send_payload) and may carry occurred_at/tid (tests); the hot path
      # passes at:/tid:/args_json: (precomputed arguments JSON, shared by a job's events) instead.
      def base(type, job, queue, ctx, at = nil, tid = nil, args_json = nil)
        ev = {"type" => type, "job_id" => job["jid"].to_s, "occurred_at" => at || ctx[:occurred_at] || now_iso}
        klass = job["class"]
        klass = klass.to_s unless klass.is_a?(String) || klass.nil?
        ev["job_class"] = klass unless klass.nil? || klass.empty?
        q = queue || job["queue"]
        q = q.to_s unless q.is_a?(String) || q.nil?
        ev["queue"] = q unless q.nil? || q.empty?
        unless ctx[:send_arguments] == false
          ev["arguments"] = args_json || arguments_json(job["args"])
          aj = active_job_fields(job, klass)
          ev.merge!(aj) if aj
        end
        v = ctx[:instance]
        ev["instance"] = v if v
        v = ctx[:hostname]
        ev["hostname"] = v if v
        v = ctx[:pid]
        ev["pid"] = v if v
        v = tid || ctx[:tid]
        ev["tid"] = v if v
        rc = job["retry_count"]
        ev["retry_count"] = rc.to_i if rc.is_a?(Numeric) || (rc.is_a?(String) && rc.match?(/\A\d+\z/))
        v = job["enqueued_at"]
        v = timestamp(v) if v
        ev["enqueued_at"] = v if v
        v = job["created_at"]
        v = timestamp(v) if v
        ev["created_at"] = v if v
        ev
      end

      # Client middleware push: "scheduled" when the job carries a future `at`, else "queued".
      def enqueued(job, queue, ctx = {}, at: nil, args_json: nil)
        sched = job["at"]
        scheduled_at = sched.nil? ? nil : timestamp(sched)
        ev = base(scheduled_at ? "scheduled" : "queued", job, queue, ctx, at, nil, args_json)
        ev["scheduled_at"] = scheduled_at if scheduled_at
        ev["payload"] = payload_json(job) if ctx[:send_payload]
        ev
      end

      def started(job, queue, ctx = {}, at: nil, tid: nil, args_json: nil)
        base("started", job, queue, ctx, at, tid, args_json)
      end

      def succeeded(job, queue, duration_ms, ctx = {}, at: nil, tid: nil, args_json: nil)
        ev = base("succeeded", job, queue, ctx, at, tid, args_json)
        ev["duration_ms"] = duration_ms.round(3) if duration_ms
        ev
      end

      def failed(job, queue, exception, will_retry, duration_ms, ctx = {}, at: nil, tid: nil, args_json: nil)
        ev = base("failed", job, queue, ctx, at, tid, args_json)
        add_error(ev, exception, ctx)
        ev["will_retry"] = will_retry ? true : false
        ev["duration_ms"] = duration_ms.round(3) if duration_ms
        ev
      end

      # job must carry the retry_count of the retry now scheduled (the caller computes it).
      def retrying(job, queue, exception, ctx = {}, at: nil, tid: nil, args_json: nil)
        ev = base("retrying", job, queue, ctx, at, tid, args_json)
        add_error(ev, exception, ctx)
        ev
      end

      # From a death handler: the job hash as Sidekiq has updated it (retry_count incremented,
      # error_class/error_message set when it went through the retry logic).
      def dead(job, exception, ctx = {}, at: nil)
        ev = base("dead", job, job["queue"], ctx, at)
        if exception
          add_error(ev, exception, ctx)
        else
          ev["error_class"] = job["error_class"].to_s unless job["error_class"].to_s.empty?
          ev["error_message"] = scrub(job["error_message"].to_s) unless job["error_message"].to_s.empty?
        end
        ev
      end

      # A job stopped by Sidekiq's hard shutdown (Sidekiq::Shutdown); Sidekiq pushes it back to its queue.
      def interrupted(job, queue, duration_ms, ctx = {}, at: nil, tid: nil, args_json: nil)
        ev = base("interrupted", job, queue, ctx, at, tid, args_json)
        ev["duration_ms"] = duration_ms.round(3) if duration_ms
        ev
      end

      # ---- hot path: JSON text built directly, for the events of one job run ----
      #
      # The fields every event of one run shares (job_class, queue, arguments, instance, hostname, pid,
      # tid, retry_count, enqueued_at, created_at) are encoded once per run as a JSON fragment (no braces,
      # leading comma); each event is then a short string concatenation. Same JSON objects as the Hash
      # builders above (tested for equality), at a fraction of the CPU and allocations.
      #
      # marked: the job carries the client middleware's mark (its queued event already gave its class,
      # queue, arguments and created_at), so only what the run adds is sent.
      def run_fragment(job, queue, ctx, tid = nil, args_json = nil, marked = false)
        # sized once: appending to a small string reallocates repeatedly (malloc showed up in profiles)
        out = String.new(capacity: 320 + (args_json ? args_json.bytesize * 2 : 256), encoding: Encoding::UTF_8)
        unless marked
          klass = job["class"]
          klass = klass.to_s unless klass.is_a?(String) || klass.nil?
          out << ',"job_class":' << str_json(klass) unless klass.nil? || klass.empty?
          q = queue || job["queue"]
          q = q.to_s unless q.is_a?(String) || q.nil?
          out << ',"queue":' << str_json(q) unless q.nil? || q.empty?
          unless ctx[:send_arguments] == false
            out << ',"arguments":' << str_json(args_json || arguments_json(job["args"]))
            aj = active_job_fields(job, klass)
            aj&.each { |k, v| out << ",\"#{k}\":" << str_json(v) }
          end
        end
        out << (ctx[:static_fragment] || static_fragment(ctx))
        tid ||= ctx[:tid]
        out << ',"tid":' << str_json(tid.to_s) if tid
        rc = job["retry_count"]
        out << ',"retry_count":' << rc.to_i.to_s if rc.is_a?(Numeric) || (rc.is_a?(String) && rc.match?(/\A\d+\z/))
        v = job["enqueued_at"]
        v = timestamp(v) if v
        out << ',"enqueued_at":"' << v << '"' if v
        v = marked ? nil : job["created_at"]
        v = timestamp(v) if v
        out << ',"created_at":"' << v << '"' if v
        out
      end

      # instance, hostname, pid: the same for every event of a process (cached in the context).
      def static_fragment(ctx)
        out = +""
        out << ',"instance":' << str_json(ctx[:instance].to_s) if ctx[:instance]
        out << ',"hostname":' << str_json(ctx[:hostname].to_s) if ctx[:hostname]
        out << ',"pid":' << ctx[:pid].to_i.to_s if ctx[:pid]
        out.freeze
      end

      NEEDS_ESCAPE = /["\\\x00-\x1f]/.freeze

      # A String as a JSON string literal, exactly as JSON.generate writes it: plain quoting when
      # nothing needs escaping (most class names, queues, tids), else the C generator; invalid UTF-8 scrubbed.
      def str_json(s)
        if (s.encoding == Encoding::UTF_8 || s.ascii_only?) && !NEEDS_ESCAPE.match?(s) && s.valid_encoding?
          "\"#{s}\""
        else
          dump(s)
        end
      rescue JSON::GeneratorError, EncodingError
        dump(scrub(s))
      end

      # One event as JSON text: type, job_id, occurred_at, the run fragment, then extra fields
      # (a fragment with a leading comma, or nil).
      def event_json(type, job_id_json, at, fragment, extra = nil)
        "{\"type\":\"#{type}\",\"job_id\":#{job_id_json},\"occurred_at\":\"#{at}\"#{fragment}#{extra}}"
      end

      def job_id_json(job)
        jid = job["jid"].to_s
        jid.match?(/\A[A-Za-z0-9_-]*\z/) ? "\"#{jid}\"" : dump(scrub(jid))
      end

      def duration_fragment(duration_ms)
        return nil unless duration_ms
        d = duration_ms.round(3)
        # Float#to_s is valid JSON for finite values ("12.5", "1.0e-05") and far cheaper than JSON.generate
        d.is_a?(Float) && !d.finite? ? nil : ",\"duration_ms\":#{d}"
      end

      # error_class, error_message, error_backtrace (+ will_retry, duration_ms) as a fragment.
      def error_fragment(exception, ctx, will_retry = nil, duration_ms = nil)
        h = add_error({}, exception, ctx)
        h["will_retry"] = will_retry ? true : false unless will_retry.nil?
        h["duration_ms"] = duration_ms.round(3) if duration_ms
        json = encode(h)
        json.size > 2 ? ",#{json[1..-2]}" : nil
      end

      PROCESS_FIELDS = %i[instance hostname pid identity started_at_us sidekiq_version client_version
        concurrency queues tag].freeze

      # Process lifecycle (type "process"): startup, heartbeat, quiet, shutdown, exit. ctx holds the
      # per-process fields (Supervisor.process_context: Sidekiq's identity, the boot time, ...).
      def process(state, ctx = {})
        ev = {"type" => "process", "state" => state.to_s, "occurred_at" => ctx[:occurred_at] || now_iso}
        PROCESS_FIELDS.each { |k| ev[k.to_s] = ctx[k] unless ctx[k].nil? }
        ev
      end

      def add_error(ev, exception, ctx)
        return ev unless exception
        # The service refuses empty strings: leave out what is empty (e.g. RuntimeError.new("")).
        klass = exception.class.name.to_s
        ev["error_class"] = klass unless klass.empty?
        msg = error_message(exception)
        ev["error_message"] = msg unless msg.empty?
        lines = (ctx[:backtrace_lines] || 20).to_i
        bt = exception.backtrace
        ev["error_backtrace"] = bt.first(lines).map { |l| scrub(l.to_s) } if bt && lines.positive?
        ev
      end

      def error_message(exception)
        scrub(exception.message.to_s[0, 10_000])
      rescue StandardError
        "!!! ERROR MESSAGE THREW AN ERROR !!!"
      end

      def payload_json(job)
        dump(job)
      rescue JSON::GeneratorError, EncodingError
        dump(scrub(job))
      end

      # Valid UTF-8 everywhere (binary junk in messages or args would make JSON.generate raise).
      def scrub(obj)
        case obj
        when String
          s = obj.encoding == Encoding::UTF_8 ? obj : obj.dup.force_encoding(Encoding::UTF_8)
          s.valid_encoding? ? s : s.scrub("?")
        when Array then obj.map { |v| scrub(v) }
        when Hash then obj.each_with_object({}) { |(k, v), h| h[scrub(k.to_s)] = scrub(v) }
        when Float then obj.finite? ? obj : obj.to_s
        else obj
        end
      end

      # JSON for one event or a batch; never raises on bad encodings or non-finite floats.
      def encode(obj)
        dump(obj)
      rescue JSON::GeneratorError, EncodingError
        dump(scrub(obj))
      end
    end
  end
end
