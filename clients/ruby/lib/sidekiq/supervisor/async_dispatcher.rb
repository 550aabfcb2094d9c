# frozen_string_literal: true

module Sidekiq
  module Supervisor
    # A bounded in-memory buffer drained by one background thread in batches.
    #
    # * push never blocks on I/O: it takes a mutex for a few instructions, and when the buffer is full
    #   it drops the event and counts it (dropped_full).
    # * The thread sends a batch when batch_size events are waiting, when flush_interval has passed
    #   since the last batch, on flush, and on shutdown.
    # * A batch that fails transiently (network, timeout, 5xx, 429) is kept and retried with
    #   exponential backoff (up to max_backoff); new events keep filling the buffer meanwhile.
    # * shutdown(timeout) drains what it can before the deadline and counts the rest (dropped_shutdown).
    # * Fork-safe: a child process starts with an empty buffer and its own thread.
    #
    # deliver is called with an Array of events and must return :ok, :drop (permanent failure, the
    # batch is discarded) or :retry (transient failure).
    class AsyncDispatcher
      attr_reader :capacity, :batch_size

      def initialize(capacity:, batch_size:, flush_interval:, max_backoff:, deliver:, on_error: nil)
        @capacity = [capacity.to_i, 1].max
        @batch_size = [batch_size.to_i, 1].max
        @flush_interval = flush_interval.to_f
        @max_backoff = max_backoff.to_f
        @deliver = deliver
        @on_error = on_error
        @mutex = Mutex.new
        @work_cv = ConditionVariable.new   # signalled: a full batch is waiting, flush, or shutdown
        @idle_cv = ConditionVariable.new   # broadcast: buffer drained and nothing in flight
        @stop_cv = ConditionVariable.new   # signalled: shutdown (interrupts backoff sleeps)
        reset_state
      end

      # Non-blocking. Returns true when buffered, false when dropped.
      def push(event)
        @mutex.synchronize do
          reset_after_fork
          if @closed
            @counts[:dropped_closed] += 1
            return false
          end
          if @buf.size >= @capacity
            @counts[:dropped_full] += 1
            return false
          end
          @buf << event
          @counts[:buffered_total] += 1
          @work_cv.signal if @buf.size >= @batch_size
          start_thread unless @thread&.alive?
        end
        true
      end

      # Ask the thread to send everything now and wait until the buffer is empty and nothing is in
      # flight, or until timeout. Returns true when drained.
      def flush(timeout = 5.0)
        deadline = now + timeout.to_f
        @mutex.synchronize do
          reset_after_fork
          return true if drained?
          start_thread unless @thread&.alive?
          @flush_requested = true
          @work_cv.signal
          until drained?
            left = deadline - now
            return false if left <= 0
            @idle_cv.wait(@mutex, left)
          end
          true
        end
      end

      # Final flush: send what can be sent before the deadline, then stop the thread. Events pushed
      # afterwards are dropped (dropped_closed). Idempotent.
      def shutdown(timeout = 5.0)
        thread = nil
        lost_before = 0
        @mutex.synchronize do
          reset_after_fork
          lost_before = @counts[:dropped_shutdown]
          return true if @closed && !(@thread&.alive?)
          @stopping = true
          @closed = true
          @deadline = now + timeout.to_f
          thread = @thread
          if thread.nil? || !thread.alive?
            @counts[:dropped_shutdown] += @buf.size
            @buf.clear
            return true
          end
          @work_cv.signal
          @stop_cv.signal
        end
        joined = thread.join([timeout.to_f + 0.5, 0.1].max)
        unless joined
          thread.kill
          thread.join(0.5)
        end
        @mutex.synchronize do
          lost = @buf.size + @inflight
          @counts[:dropped_shutdown] += lost
          @buf.clear
          @inflight = 0
          @idle_cv.broadcast
          @counts[:dropped_shutdown] == lost_before
        end
      end

      def size
        @mutex.synchronize { @buf.size }
      end

      def stats
        @mutex.synchronize { @counts.merge(buffered: @buf.size, in_flight: @inflight) }
      end

      def running?
        @mutex.synchronize { !!@thread&.alive? }
      end

      private

      def reset_state
        @buf = []
        @inflight = 0
        @thread = nil
        @stopping = false
        @closed = false
        @flush_requested = false
        @deadline = nil
        @pid = ::Process.pid
        @counts = Hash.new(0).merge(buffered_total: 0, sent: 0, dropped_full: 0, dropped_rejected: 0,
          dropped_shutdown: 0, dropped_closed: 0, batches: 0, failed_batches: 0)
      end

      def reset_after_fork
        return if @pid == ::Process.pid
        # The parent's thread does not exist here and its buffered events belong to the parent.
        # (The mutex itself stays usable: Ruby abandons locks held by threads that did not fork.)
        reset_state
      end

      def drained?
        @buf.empty? && @inflight.zero?
      end

      def now
        ::Process.clock_gettime(::Process::CLOCK_MONOTONIC)
      end

      def start_thread
        @thread = Thread.new { run }
        @thread.name = "sidekiq-supervisor" if @thread.respond_to?(:name=)
        @thread.report_on_exception = false
        @thread.abort_on_exception = false
      end

      def run
        backoff = 0.0
        batch = nil
        loop do
          if batch.nil?
            batch = @mutex.synchronize { next_batch }
            break if batch == :stop
            next if batch.nil?
          end

          result = safe_deliver(batch)
          if result == :retry
            @mutex.synchronize do
              @counts[:failed_batches] += 1
              if @stopping && now >= @deadline
                @counts[:dropped_shutdown] += batch.size + @buf.size
                @buf.clear
                @inflight = 0
                @idle_cv.broadcast
                batch = :stop
              else
                backoff = backoff.zero? ? 0.25 : [backoff * 2, @max_backoff].min
                wait = @stopping ? [0.1, @deadline - now].min : backoff
                @stop_cv.wait(@mutex, wait) if wait.positive?
              end
            end
            break if batch == :stop
          else
            backoff = 0.0
            @mutex.synchronize do
              if result == :ok
                @counts[:sent] += batch.size
              else
                @counts[:dropped_rejected] += batch.size
              end
              @counts[:batches] += 1
              @inflight = 0
              @idle_cv.broadcast if drained?
            end
            batch = nil
          end
        end
      rescue Exception => e # rubocop:disable Lint/RescueException -- the thread must never die silently
        @on_error&.call(e)
        @mutex.synchronize do
          @counts[:dropped_rejected] += @inflight
          @inflight = 0
          @idle_cv.broadcast
        end
        raise if e.is_a?(SignalException) || e.is_a?(SystemExit)
      end

      # Called with the mutex held. Waits for work; returns an Array, nil (nothing yet), or :stop.
      def next_batch
        deadline = now + @flush_interval
        while @buf.size < @batch_size && !@stopping && !@flush_requested
          left = deadline - now
          break if left <= 0
          @work_cv.wait(@mutex, left)
        end
        if @buf.empty?
          @flush_requested = false
          @idle_cv.broadcast if @inflight.zero?
          return :stop if @stopping
          return nil
        end
        batch = @buf.shift(@batch_size)
        @flush_requested = false if @buf.empty?
        @inflight = batch.size
        batch
      end

      def safe_deliver(batch)
        r = @deliver.call(batch)
        %i[ok drop retry].include?(r) ? r : :retry
      rescue StandardError => e
        @on_error&.call(e)
        :retry
      end
    end
  end
end
