# frozen_string_literal: true

module Sidekiq
  module Supervisor
    # Tells whether this process is a fork of the one that built an object: on Ruby 3.1+ a hook on
    # Process._fork bumps a generation number in the child (reading it costs a method call); before
    # 3.1 the pid is compared (a getpid call each time).
    module ForkTracker
      @generation = 0

      module Hook
        def _fork
          pid = super
          ForkTracker.forked! if pid.zero?
          pid
        end
      end

      HOOKED = ::Process.respond_to?(:_fork) && (::Process.singleton_class.prepend(Hook) && true)

      class << self
        def forked!
          @generation += 1
        end

        # Changes in a forked child (and never otherwise).
        def token
          HOOKED ? @generation : ::Process.pid
        end
      end
    end

    # A bounded in-memory buffer drained by one background thread in batches.
    #
    # * push never blocks on I/O: it takes a mutex for a few instructions (an append to the batch being
    #   filled), and when the buffer is full it drops the event and counts it (dropped_full).
    # * new_batch makes an empty batch: an Array by default, or any object with << and size, such as
    #   the reporter's, which appends JSON text to a String. Then no per-event Ruby object waits in
    #   the buffer: in a busy Sidekiq this thread may wait tens of milliseconds for the GVL, long enough
    #   for buffered objects to survive three minor GCs and be promoted, and promoted garbage is what
    #   makes a process run major GCs.
    # * A batch is sealed when batch_size events are in it, when flush_interval has passed since the
    #   last batch, on flush, and on shutdown; the thread sends sealed batches in order.
    # * A batch that fails transiently (network, timeout, 5xx, 429) is kept and retried with
    #   exponential backoff (up to max_backoff); new events keep filling the buffer meanwhile.
    # * shutdown(timeout) drains what it can before the deadline and counts the rest (dropped_shutdown).
    # * Fork-safe: a child process starts with an empty buffer and its own thread.
    #
    # deliver is called with a batch and must return :ok, :drop (permanent failure, the batch is
    # discarded) or :retry (transient failure). tick, when given, is called on the thread before each
    # wait for a batch (at least every flush_interval); it may push.
    class AsyncDispatcher
      attr_reader :capacity, :batch_size

      def initialize(capacity:, batch_size:, flush_interval:, max_backoff:, deliver:, on_error: nil,
        new_batch: nil, tick: nil)
        @capacity = [capacity.to_i, 1].max
        @batch_size = [batch_size.to_i, 1].max
        @flush_interval = flush_interval.to_f
        @max_backoff = max_backoff.to_f
        @deliver = deliver
        @new_batch = new_batch
        @tick = tick
        @on_error = on_error
        reset_state
      end

      # Non-blocking. Returns true when buffered, false when dropped.
      # (Called for every job: lock/unlock is cheaper than synchronize's block.)
      def push(event)
        reset_after_fork unless @fork_token == ForkTracker.token
        @mutex.lock
        begin
          if @closed
            @counts[:dropped_closed] += 1
            return false
          end
          if @pending >= @capacity
            @counts[:dropped_full] += 1
            return false
          end
          batch = (@current ||= (@new_batch ? @new_batch.call : []))
          batch << event
          @pending += 1
          @pushed += 1
          if batch.size >= @batch_size
            @ready << batch
            @current = nil
            @work_cv.signal
          end
          start_thread unless @thread&.alive?
        ensure
          @mutex.unlock
        end
        true
      end

      # Non-blocking. A whole batch made elsewhere (any object with size, like new_batch's), buffered
      # after the batch being filled (sealed first, so what was pushed before goes first). Returns
      # true when buffered, false when dropped (closed, or it does not fit in capacity: all of it).
      def push_batch(batch)
        reset_after_fork unless @fork_token == ForkTracker.token
        n = batch.size
        return true if n.zero?
        @mutex.synchronize do
          if @closed || @pending + n > @capacity
            @counts[@closed ? :dropped_closed : :dropped_full] += n
            return false
          end
          @ready << @current if @current
          @current = nil
          @ready << batch
          @pending += n
          @pushed += n
          @work_cv.signal
          start_thread unless @thread&.alive?
        end
        true
      end

      # Starts the thread if it is not running (tick then runs even before the first push).
      def ensure_running
        reset_after_fork unless @fork_token == ForkTracker.token
        return if @thread&.alive?
        @mutex.synchronize { start_thread unless @thread&.alive? || @closed }
      end

      # Ask the thread to send everything now and wait until the buffer is empty and nothing is in
      # flight, or until timeout. Returns true when drained.
      def flush(timeout = 5.0)
        reset_after_fork unless @fork_token == ForkTracker.token
        deadline = now + timeout.to_f
        @mutex.synchronize do
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
        reset_after_fork unless @fork_token == ForkTracker.token
        thread = nil
        lost_before = 0
        @mutex.synchronize do
          lost_before = @counts[:dropped_shutdown]
          return true if @closed && !@thread&.alive?
          @stopping = true
          @closed = true
          @deadline = now + timeout.to_f
          thread = @thread
          if thread.nil? || !thread.alive?
            discard(:dropped_shutdown)
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
          discard(:dropped_shutdown)
          @idle_cv.broadcast
          @counts[:dropped_shutdown] == lost_before
        end
      end

      # Events buffered and not yet in a request.
      def size
        @mutex.synchronize { @pending - @inflight }
      end

      def stats
        @mutex.synchronize do
          @counts.merge(buffered_total: @pushed, buffered: @pending - @inflight, in_flight: @inflight)
        end
      end

      def running?
        !!@thread&.alive?
      end

      private

      def reset_state
        @mutex = Mutex.new
        @work_cv = ConditionVariable.new   # signalled: a batch is sealed, flush, or shutdown
        @idle_cv = ConditionVariable.new   # broadcast: buffer drained and nothing in flight
        @stop_cv = ConditionVariable.new   # signalled: shutdown (interrupts backoff sleeps)
        @current = nil                     # the batch being filled
        @ready = []                        # sealed batches, oldest first
        @pending = 0                       # events buffered or in flight (bounded by capacity)
        @pushed = 0
        @inflight = 0
        @thread = nil
        @stopping = false
        @closed = false
        @flush_requested = false
        @deadline = nil
        @fork_token = ForkTracker.token
        @counts = Hash.new(0).merge(sent: 0, dropped_full: 0, dropped_rejected: 0,
          dropped_shutdown: 0, dropped_closed: 0, batches: 0, failed_batches: 0)
      end

      def reset_after_fork
        # The parent's thread does not exist here and its buffered events belong to the parent.
        reset_state
      end

      # Called with the mutex held: every event not yet sent is counted as lost under counter.
      def discard(counter)
        @counts[counter] += @pending
        @current = nil
        @ready.clear
        @pending = 0
        @inflight = 0
      end

      def drained?
        @pending.zero?
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
            safe_tick
            batch = @mutex.synchronize { next_batch }
            break if batch == :stop
            next if batch.nil?
          end

          result = safe_deliver(batch)
          if result == :retry
            @mutex.synchronize do
              @counts[:failed_batches] += 1
              if @stopping && now >= @deadline
                discard(:dropped_shutdown)
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
              @counts[result == :ok ? :sent : :dropped_rejected] += batch.size
              @counts[:batches] += 1
              @pending -= batch.size
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
          @pending -= @inflight
          @inflight = 0
          @idle_cv.broadcast
        end
        raise if e.is_a?(SignalException) || e.is_a?(SystemExit)
      end

      # Called with the mutex held. Waits for a sealed batch (sealing the one being filled when
      # flush_interval passes, on flush and on shutdown); returns a batch, nil (nothing yet) or :stop.
      def next_batch
        deadline = now + @flush_interval
        while @ready.empty? && !@stopping && !@flush_requested
          left = deadline - now
          break if left <= 0
          @work_cv.wait(@mutex, left)
        end
        if @ready.empty? && @current
          @ready << @current
          @current = nil
        end
        batch = @ready.shift
        if batch.nil?
          @flush_requested = false
          @idle_cv.broadcast if drained?
          return :stop if @stopping
          return nil
        end
        @flush_requested = false if @ready.empty? && @current.nil?
        @inflight = batch.size
        batch
      end

      # tick runs on this thread before it waits for each batch (at least every flush_interval).
      def safe_tick
        @tick&.call
      rescue StandardError => e
        @on_error&.call(e)
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
