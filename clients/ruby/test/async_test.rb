# frozen_string_literal: true

require_relative "test_helper"

class AsyncDispatcherTest < Minitest::Test
  D = Sidekiq::Supervisor::AsyncDispatcher

  def dispatcher(capacity: 100, batch_size: 10, flush_interval: 0.05, max_backoff: 0.2, &deliver)
    D.new(capacity: capacity, batch_size: batch_size, flush_interval: flush_interval, max_backoff: max_backoff,
      deliver: deliver)
  end

  def test_bounded_buffer_drops_with_a_counter_and_never_blocks
    gate = Queue.new
    d = dispatcher(capacity: 5, batch_size: 1) { |_b| gate.pop; :ok } # the consumer is stuck
    t0 = mono
    results = 20.times.map { |i| d.push(i) }
    assert_operator mono - t0, :<, 0.1, "push never waits for the consumer"
    s = d.stats
    # one event may already be in flight (taken by the stuck thread), 5 buffered, the rest dropped
    assert_equal 20, results.count(true) + s[:dropped_full]
    assert_operator s[:dropped_full], :>=, 14
    assert_operator s[:buffered], :<=, 5
    20.times { gate << true }
  ensure
    d&.shutdown(1)
  end

  def test_batches_respect_batch_size_and_preserve_order
    batches = Queue.new
    d = dispatcher(capacity: 1000, batch_size: 7) { |b| batches << b; :ok }
    50.times { |i| d.push(i) }
    assert d.flush(2)
    got = []
    got << batches.pop until batches.empty?
    assert got.all? { |b| b.size <= 7 }
    assert_equal (0...50).to_a, got.flatten
    assert_equal 50, d.stats[:sent]
  ensure
    d&.shutdown(1)
  end

  def test_flush_interval_sends_partial_batches
    batches = Queue.new
    d = dispatcher(batch_size: 100, flush_interval: 0.1) { |b| batches << b; :ok }
    d.push(:a)
    b = Timeout.timeout(2) { batches.pop }
    assert_equal [:a], b
  ensure
    d&.shutdown(1)
  end

  def test_transient_failures_are_retried_with_backoff
    calls = 0
    delivered = Queue.new
    d = dispatcher(batch_size: 10) do |b|
      calls += 1
      next :retry if calls < 3
      delivered << b
      :ok
    end
    3.times { |i| d.push(i) }
    assert_equal [0, 1, 2], Timeout.timeout(5) { delivered.pop }
    assert_equal 2, d.stats[:failed_batches]
    assert_equal 3, d.stats[:sent]
  ensure
    d&.shutdown(1)
  end

  def test_permanent_failures_are_dropped_and_counted
    d = dispatcher { |_b| :drop }
    4.times { |i| d.push(i) }
    assert d.flush(2)
    assert_equal 4, d.stats[:dropped_rejected]
  ensure
    d&.shutdown(1)
  end

  def test_shutdown_drains_then_refuses
    sent = []
    d = dispatcher(batch_size: 3, flush_interval: 10) { |b| sent.concat(b); :ok }
    10.times { |i| d.push(i) }
    assert d.shutdown(2)
    assert_equal (0...10).to_a, sent
    refute d.push(:late)
    assert_equal 1, d.stats[:dropped_closed]
    assert d.shutdown(1), "idempotent"
  end

  def test_shutdown_gives_up_at_the_deadline_and_counts_the_loss
    d = dispatcher(batch_size: 5) { |_b| :retry } # service away
    12.times { |i| d.push(i) }
    t0 = mono
    refute d.shutdown(0.5)
    assert_operator mono - t0, :<, 1.5
    assert_equal 12, d.stats[:dropped_shutdown]
  end

  def test_a_crashing_deliver_is_a_transient_failure
    n = 0
    d = dispatcher { |_b| (n += 1) == 1 ? raise("bug") : :ok }
    d.push(1)
    assert d.flush(3)
    assert_equal 1, d.stats[:sent]
  ensure
    d&.shutdown(1)
  end

  def test_a_custom_batch_holds_the_events_instead_of_an_array
    sent = Queue.new
    batch_class = Struct.new(:text, :size) do
      def <<(e)
        self.text += e.to_s
        self.size += 1
        self
      end
    end
    d = D.new(capacity: 100, batch_size: 3, flush_interval: 5, max_backoff: 0.2,
      deliver: ->(b) { sent << b.text; :ok }, new_batch: -> { batch_class.new(+"", 0) })
    7.times { |i| d.push(i) }
    assert_equal "012", Timeout.timeout(2) { sent.pop }, "sealed at batch_size"
    assert_equal "345", Timeout.timeout(2) { sent.pop }
    assert d.flush(2)
    assert_equal "6", sent.pop
    assert_equal 7, d.stats[:sent]
  ensure
    d&.shutdown(1)
  end

  def test_fork_gets_an_empty_buffer_and_its_own_thread
    skip "fork not available" unless Process.respond_to?(:fork)
    r, w = IO.pipe
    d = dispatcher(batch_size: 100, flush_interval: 10) { |b| w.write("#{Process.pid}:#{b.inspect}\n"); :ok }
    d.push(:parent)
    pid = fork do
      d.push(:child)
      d.shutdown(2)
      exit!(0)
    end
    Process.wait(pid)
    d.shutdown(2)
    w.close
    lines = r.read.lines.map(&:strip)
    assert_includes lines, "#{pid}:[:child]"
    assert_includes lines, "#{Process.pid}:[:parent]"
  end
end

# The async reporter against a real TCP sink: batches to /api/v1/events.
class AsyncReporterTest < Minitest::Test
  def setup
    @sink = Sink.new(token: "test-token").start
  end

  def teardown
    Sidekiq::Supervisor.reset!({})
    @sink.stop
  end

  def publish(n, prefix = "j")
    n.times { |i| Sidekiq::Supervisor.reporter.publish(Sidekiq::Supervisor::Events.started(job_hash("jid" => "#{prefix}#{i}"), "q", {})) }
  end

  def test_events_are_batched_to_the_batch_route
    configure_supervisor(url: @sink.url, mode: :async, batch_size: 50, flush_interval: 5)
    publish(120)
    assert Sidekiq::Supervisor.flush(5)
    paths = @sink.requests.map(&:path).uniq
    assert_equal ["/api/v1/events"], paths
    sizes = @sink.requests.map { |r| r.json["events"].size }
    assert_equal 120, sizes.sum
    assert_operator sizes.max, :<=, 50
    assert_equal((0...120).map { |i| "j#{i}" }, @sink.events.map { |e| e["job_id"] })
    assert_equal 120, Sidekiq::Supervisor.stats[:sent]
    assert_equal 1, @sink.connections
  end

  def test_publish_does_not_block_while_the_service_hangs
    @sink.mode = :hang
    configure_supervisor(url: @sink.url, mode: :async, buffer_size: 100, batch_size: 10, batch_read_timeout: 10)
    t0 = mono
    publish(1000)
    elapsed = mono - t0
    assert_operator elapsed, :<, 0.5, "1000 publishes took #{elapsed}s"
    s = Sidekiq::Supervisor.stats
    assert_operator s[:dropped_full], :>=, 890
    assert_operator s[:buffered], :<=, 100
  end

  def test_service_away_then_back_events_are_delivered
    @sink.status = 503
    configure_supervisor(url: @sink.url, mode: :async, batch_size: 10, flush_interval: 0.05, max_backoff: 0.2)
    publish(25)
    sleep 0.3
    assert_equal 0, Sidekiq::Supervisor.stats[:sent]
    @sink.status = nil
    assert Sidekiq::Supervisor.flush(5)
    assert_equal 25, Sidekiq::Supervisor.stats[:sent]
    ok_ids = @sink.requests.select { |r| r.json["events"] && r.path.end_with?("/events") }.last(3).flat_map { |r| r.json["events"].map { |e| e["job_id"] } }
    assert_includes ok_ids, "j24"
  end

  def test_invalid_events_named_by_the_service_are_dropped_and_the_rest_resent
    @sink.handler = lambda do |req|
      evs = req.json["events"]
      bad = evs.each_index.select { |i| evs[i]["job_id"] == "bad" }
      bad.any? ? [400, {"message" => bad.map { |i| "events[#{i}].job_id is invalid" }}] : [200, {"accepted" => evs.size}]
    end
    configure_supervisor(url: @sink.url, mode: :async, batch_size: 10, flush_interval: 5)
    publish(4)
    Sidekiq::Supervisor.reporter.publish(Sidekiq::Supervisor::Events.started(job_hash("jid" => "bad"), "q", {}))
    publish(3, "k")
    assert Sidekiq::Supervisor.flush(5)
    assert_equal 2, @sink.request_count
    assert_equal 7, @sink.requests.last.json["events"].size
    assert_equal 1, Sidekiq::Supervisor.stats[:rejected]
  end

  def test_413_splits_the_batch
    @sink.handler = ->(req) { req.json["events"].size > 4 ? [413, {}] : [200, {"accepted" => req.json["events"].size}] }
    configure_supervisor(url: @sink.url, mode: :async, batch_size: 16, flush_interval: 5)
    publish(16)
    assert Sidekiq::Supervisor.flush(5)
    assert_equal 16, Sidekiq::Supervisor.stats[:sent]
    assert_equal 16, @sink.requests.select { |r| r.json["events"].size <= 4 }.sum { |r| r.json["events"].size }
  end

  # The server middleware's rows (compact form) travel with event objects in one body.
  def run_jobs(n, prefix = "r", **job)
    mw = Sidekiq::Supervisor::Middleware::Server.new
    n.times { |i| mw.call(nil, job_hash({"jid" => "#{prefix}#{i}"}.merge(job)), "default") { :done } }
  end

  def test_the_server_middleware_sends_one_row_per_run_with_the_columns_and_process_defaults
    configure_supervisor(url: @sink.url, mode: :async, batch_size: 100, flush_interval: 5, instance: "eu")
    publish(2, "e")
    run_jobs(3, "r", "retry_count" => 2, "enqueued_at" => 1_700_000_000_654, "created_at" => 1_700_000_000.5)
    assert Sidekiq::Supervisor.flush(5)
    body = @sink.requests.last.json
    assert_equal Sidekiq::Supervisor::Reporter::ROW_COLUMNS, body["columns"]
    assert_equal({"hostname" => Socket.gethostname, "pid" => Process.pid, "instance" => "eu"}, body["defaults"])
    assert_equal 2, body["events"].size
    assert_equal 3, body["rows"].size, "one row per run: it carries the start and the end"
    row = body["columns"].zip(body["rows"].first).to_h
    assert_equal ["succeeded", "r0"], row.values_at("type", "job_id")
    assert_equal '[1,"two",{"three":3}]', row["arguments"], "arguments text exactly as JSON.generate(args)"
    assert_equal ["HardJob", "default", 2], row.values_at("job_class", "queue", "retry_count")
    assert_equal 1_700_000_000_654_000, row["enqueued_at_us"], "Sidekiq 8 milliseconds"
    assert_equal 1_700_000_000_500_000, row["created_at_us"], "Sidekiq 6/7 float seconds"
    now_us = Process.clock_gettime(Process::CLOCK_REALTIME, :microsecond)
    assert_in_delta now_us, row["started_at_us"], 10_000_000
    assert_operator row["occurred_at_us"], :>=, row["started_at_us"]
    assert_kind_of Integer, row["duration_us"]
    # read as the service reads it: started and succeeded, with the same job fields
    started, succeeded = @sink.events.select { |e| e["job_id"] == "r0" }
    assert_equal %w[started succeeded], [started["type"], succeeded["type"]]
    assert_equal started.values_at("job_class", "queue", "arguments", "tid", "retry_count", "hostname"),
      succeeded.values_at("job_class", "queue", "arguments", "tid", "retry_count", "hostname")
    refute started.key?("duration_ms")
    assert_equal 5, Sidekiq::Supervisor.stats[:sent]
    assert_nil Thread.current[Sidekiq::Supervisor::RUN_KEY], "the run left its slot"
  end

  def test_a_marked_job_s_row_leaves_out_what_its_queued_event_gave
    configure_supervisor(url: @sink.url, mode: :async, batch_size: 100, flush_interval: 5)
    run_jobs(1, "mk", Sidekiq::Supervisor::MARK => 1, "retry_count" => 1)
    run_jobs(1, "pl")
    assert Sidekiq::Supervisor.flush(5)
    marked = rows_of("mk").first
    assert_equal [nil, nil, nil, nil], marked.values_at("job_class", "queue", "arguments", "created_at_us")
    assert_equal ["succeeded", 1, 1_700_000_000_654_321], marked.values_at("type", "retry_count", "enqueued_at_us")
    assert marked["tid"]
    assert_operator marked["started_at_us"], :<=, marked["occurred_at_us"]
    plain = rows_of("pl").first
    assert_equal ["HardJob", "default", '[1,"two",{"three":3}]', 1_700_000_000_123_456],
      plain.values_at("job_class", "queue", "arguments", "created_at_us")
  end

  def test_rows_are_encoded_on_the_sender_thread_and_one_bad_row_does_not_spoil_the_batch
    batch = Sidekiq::Supervisor::Reporter::Batch.new
    row = ["succeeded", "a1", 2, nil, nil, nil, "t", nil, nil, nil, 1, 1]
    batch << row << '{"type":"dead","job_id":"d1"}' << ["succeeded", "caf\xE9".b, 2, nil, nil, nil, "t", nil, nil, nil, 1, 1]
    body = JSON.parse(batch.body('{"pid":1}'))
    assert_equal [{"type" => "dead", "job_id" => "d1"}], body["events"]
    assert_equal 2, body["rows"].size
    assert_equal row, body["rows"][0]
    assert_equal "caf?", body["rows"][1][1]
  end

  def rows_of(prefix)
    # as the service reads a row: the body's defaults, then the row's non-null values
    @sink.requests.flat_map { |r| (r.json["rows"] || []).map { |v| (r.json["defaults"] || {}).merge(r.json["columns"].zip(v).to_h.compact) } }
      .select { |row| row["job_id"].start_with?(prefix) }
  end

  def test_a_row_holds_the_arguments_as_they_were_before_the_job_ran_and_its_duration_is_end_minus_start
    configure_supervisor(url: @sink.url, mode: :async, batch_size: 100, flush_interval: 5)
    mw = Sidekiq::Supervisor::Middleware::Server.new
    job = job_hash("jid" => "m1", "args" => [1, {"k" => "v"}])
    mw.call(nil, job, "default") do
      job["args"][1]["k"] = "changed by the job"
      job["args"] << 99
      sleep 0.01
    end
    assert Sidekiq::Supervisor.flush(5)
    row = rows_of("m1").first
    assert_equal '[1,{"k":"v"}]', row["arguments"]
    assert_equal row["occurred_at_us"] - row["started_at_us"], row["duration_us"]
    assert_operator row["duration_us"], :>=, 10_000
  end

  def test_values_the_fast_path_does_not_expect_take_the_careful_path_and_still_make_a_row
    configure_supervisor(url: @sink.url, mode: :async, batch_size: 100, flush_interval: 5)
    mw = Sidekiq::Supervisor::Middleware::Server.new
    # a string that is not UTF-8 (JSON cannot encode it), the job class as a Symbol, a numeric
    # String retry_count, Sidekiq 8 integer-millisecond times and a missing created_at
    job = job_hash("jid" => "odd1", "args" => ["caf\xE9".b], "class" => :OddJob, "retry_count" => "4",
      "enqueued_at" => 1_700_000_000_123)
    job.delete("created_at")
    assert_equal :ran, mw.call(nil, job, "default") { :ran }
    assert Sidekiq::Supervisor.flush(5)
    row = rows_of("odd1").first
    refute_nil row, "the run was reported"
    assert_equal ["succeeded", "OddJob", 4, 1_700_000_000_123_000, nil],
      row.values_at("type", "job_class", "retry_count", "enqueued_at_us", "created_at_us")
    assert_kind_of String, row["arguments"]
    assert_equal 1, JSON.parse(row["arguments"]).size
  end

  def test_a_long_run_is_announced_while_it_runs_and_once
    configure_supervisor(url: @sink.url, mode: :async, batch_size: 100, flush_interval: 0.05, started_delay: 0.1)
    mw = Sidekiq::Supervisor::Middleware::Server.new
    announced = nil
    mw.call(nil, job_hash("jid" => "long1"), "default") do
      announced = @sink.wait_for(3) { @sink.events.any? { |e| e["job_id"] == "long1" } }
      sleep 0.3 # more ticks: still announced once
      :done
    end
    assert announced, "the started event was sent while the job ran"
    assert Sidekiq::Supervisor.flush(5)
    mine = @sink.events.select { |e| e["job_id"] == "long1" }
    # the announcement, then the end row (which the service reads as started again: the same event)
    assert_equal %w[started started succeeded], mine.map { |e| e["type"] }
    assert_equal mine[0], mine[1], "the announced started event is exactly the one the end row implies"
  end

  def test_a_short_run_is_not_announced
    configure_supervisor(url: @sink.url, mode: :async, batch_size: 100, flush_interval: 0.05, started_delay: 5)
    run_jobs(3, "s")
    sleep 0.2
    assert Sidekiq::Supervisor.flush(5)
    assert_equal 3, @sink.requests.sum { |r| r.json["rows"].size }
    assert_equal %w[started succeeded] * 3, @sink.events.map { |e| e["type"] }
  end

  # Marked jobs (the client middleware's MARK): the job's thread keeps the job's values as they
  # are; the sender thread makes the rows, with the 8 columns a run adds when only such rows are in
  # the body, and the service reads the same events either way.
  def test_a_marked_run_is_made_into_its_row_on_the_sender_thread_with_the_columns_it_uses
    configure_supervisor(url: @sink.url, mode: :async, batch_size: 100, flush_interval: 5)
    mw = Sidekiq::Supervisor::Middleware::Server.new
    job = job_hash("jid" => "mk1", Sidekiq::Supervisor::MARK => 1, "retry_count" => "2", "enqueued_at" => 1_700_000_000_123)
    slot = nil
    mw.call(nil, job, "default") { slot = Thread.current[Sidekiq::Supervisor::RUN_KEY].dup }
    assert_equal [nil, "mk1", nil, Thread.current, "2", 1_700_000_000_123, nil], slot[0, 7], "no conversion on the job's thread"
    assert Sidekiq::Supervisor.flush(5)
    body = @sink.requests.last.json
    assert_equal Sidekiq::Supervisor::Reporter::RUN_COLUMNS, body["columns"]
    row = body["defaults"].merge(body["columns"].zip(body["rows"].first).to_h.compact) # as the service reads it
    assert_nil body["rows"].first[0], "type from the defaults"
    assert_equal ["succeeded", "mk1", Sidekiq::Supervisor::Compat.tid, 2, 1_700_000_000_123_000],
      row.values_at("type", "job_id", "tid", "retry_count", "enqueued_at_us")
    assert_equal row["occurred_at_us"] - row["started_at_us"], row["duration_us"]
    assert_equal %w[started succeeded], @sink.events.map { |e| e["type"] }
  end

  def test_a_body_with_full_rows_sends_marked_runs_as_full_rows_that_read_the_same
    th = Thread.current
    run = [nil, "mk0", 1_700_000_000_200_000, th, 1, 1_700_000_000.5, nil, 1_700_000_000_100_000]
    started = Sidekiq::Supervisor::Events.started_row(run.dup)
    full = ["succeeded", "pl0", 2, "HardJob", "default", "[]", "t", nil, nil, nil, 1, 1]
    only_runs = Sidekiq::Supervisor::Reporter::Batch.new << run.dup << started.dup
    mixed = Sidekiq::Supervisor::Reporter::Batch.new << run << started << full
    a = JSON.parse(only_runs.body('{"pid":1}'))
    b = JSON.parse(mixed.body('{"pid":1}'))
    assert_equal Sidekiq::Supervisor::Reporter::RUN_COLUMNS, a["columns"]
    assert_equal Sidekiq::Supervisor::Reporter::ROW_COLUMNS, b["columns"]
    assert_equal Sink.batch_events(a), Sink.batch_events(b).first(3)
    rows = a["rows"].map { |r| a["defaults"].merge(a["columns"].zip(r).to_h.compact) }
    assert_equal [["succeeded", "mk0", 1_700_000_000_200_000, 100_000, 1_700_000_000_100_000], ["started", "mk0", 1_700_000_000_100_000, nil, nil]],
      rows.map { |e| e.values_at("type", "job_id", "occurred_at_us", "duration_us", "started_at_us") }
    assert_equal [Sidekiq::Supervisor::Compat.tid, 1, 1_700_000_000_500_000], a["rows"][0].values_at(3, 4, 5)
    assert_equal a["rows"], JSON.parse(only_runs.body('{"pid":1}'))["rows"], "a batch sent again (retry) reads the same"
  end

  def test_marked_runs_go_to_the_dispatcher_a_batch_at_a_time_and_on_flush
    configure_supervisor(url: @sink.url, mode: :async, batch_size: 4, flush_interval: 60)
    run_jobs(3, "m", Sidekiq::Supervisor::MARK => 1)
    assert_equal 0, @sink.request_count, "3 runs wait for the batch size (flush interval 60 s)"
    assert_equal 3, Sidekiq::Supervisor.stats[:buffered]
    run_jobs(1, "n", Sidekiq::Supervisor::MARK => 1)
    assert @sink.wait_for(3) { @sink.request_count == 1 }, "the 4th run hands the batch over"
    assert_equal %w[m0 m1 m2 n0], @sink.requests.first.json["rows"].map { |r| r[1] }
    run_jobs(2, "o", Sidekiq::Supervisor::MARK => 1)
    assert Sidekiq::Supervisor.flush(5)
    assert_equal %w[o0 o1], @sink.requests.last.json["rows"].map { |r| r[1] }
    assert_equal 6, Sidekiq::Supervisor.stats[:sent]
  end

  def test_marked_runs_that_do_not_fit_in_the_buffer_are_dropped_and_counted
    configure_supervisor(url: @sink.url, mode: :async, batch_size: 4, buffer_size: 3, flush_interval: 60)
    run_jobs(4, "m", Sidekiq::Supervisor::MARK => 1)
    assert Sidekiq::Supervisor.flush(5)
    assert_equal 4, Sidekiq::Supervisor.stats[:dropped_full]
    assert_equal 0, @sink.request_count
  end

  def test_a_long_marked_run_is_announced_once_and_its_ended_run_is_not
    configure_supervisor(url: @sink.url, mode: :async, batch_size: 100, flush_interval: 0.05, started_delay: 0.1)
    mw = Sidekiq::Supervisor::Middleware::Server.new
    run_jobs(1, "first", Sidekiq::Supervisor::MARK => 1) # a process that has run a job: its sender thread runs
    announced = nil
    mw.call(nil, job_hash("jid" => "longm", Sidekiq::Supervisor::MARK => 1), "default") do
      announced = @sink.wait_for(3) { @sink.events.any? { |e| e["job_id"] == "longm" } }
      sleep 0.3
      :done
    end
    assert announced, "the started event was sent while the job ran"
    sleep 0.3 # the ended run stays in the thread's slot: more ticks, no more announcements
    assert Sidekiq::Supervisor.flush(5)
    mine = @sink.events.select { |e| e["job_id"] == "longm" }
    assert_equal %w[started started succeeded], mine.map { |e| e["type"] }
    assert_equal mine[0], mine[1], "the announced started event is exactly the one the end row implies"
  end

  def test_a_failing_marked_job_sends_its_started_row_then_failed_without_the_queued_event_s_fields
    configure_supervisor(url: @sink.url, mode: :async, batch_size: 100, flush_interval: 5)
    mw = Sidekiq::Supervisor::Middleware::Server.new
    job = job_hash("jid" => "fm1", "retry" => 3, Sidekiq::Supervisor::MARK => 1)
    assert_raises(ArgumentError) { mw.call(nil, job, "default") { raise ArgumentError, "nope" } }
    assert_nil Thread.current[Sidekiq::Supervisor::RUN_KEY]
    assert Sidekiq::Supervisor.flush(5)
    assert_equal %w[failed retrying started], @sink.events.map { |e| e["type"] }.sort
    started = @sink.events.find { |e| e["type"] == "started" }
    assert_equal [nil, nil, nil], started.values_at("job_class", "queue", "arguments")
    failed = @sink.events.find { |e| e["type"] == "failed" }
    assert_equal ["ArgumentError", true, nil], failed.values_at("error_class", "will_retry", "arguments")
  end

  def test_a_failing_job_in_async_mode_sends_failed_and_retrying_as_event_objects
    configure_supervisor(url: @sink.url, mode: :async, batch_size: 100, flush_interval: 5)
    mw = Sidekiq::Supervisor::Middleware::Server.new
    job = job_hash("jid" => "f1", "retry" => 3)
    assert_raises(ArgumentError) { mw.call(nil, job, "default") { raise ArgumentError, "nope" } }
    assert Sidekiq::Supervisor.flush(5)
    assert_equal %w[failed retrying started], @sink.events.map { |e| e["type"] }.sort
    failed = @sink.events.find { |e| e["type"] == "failed" }
    assert_equal ["ArgumentError", "nope", true], failed.values_at("error_class", "error_message", "will_retry")
    assert_equal '[1,"two",{"three":3}]', failed["arguments"]
  end

  def test_a_row_named_by_the_service_is_dropped_and_the_rest_resent
    @sink.handler = lambda do |req|
      rows = Array(req.json["rows"])
      bad = rows.each_index.select { |i| rows[i][1] == "bad0" }
      bad.any? ? [400, {"message" => bad.map { |i| "rows[#{i}].job_id is invalid" }}] : [200, {"accepted" => 1}]
    end
    configure_supervisor(url: @sink.url, mode: :async, batch_size: 100, flush_interval: 5)
    publish(1, "e")
    run_jobs(1, "a")
    run_jobs(1, "bad")
    run_jobs(1, "b")
    assert Sidekiq::Supervisor.flush(5)
    assert_equal 2, @sink.request_count
    last = Sink.batch_events(@sink.requests.last.json)
    assert_equal %w[e0 a0 a0 b0 b0], last.map { |e| e["job_id"] }
    assert_equal 1, Sidekiq::Supervisor.stats[:rejected]
  end

  def test_413_splits_a_batch_of_rows
    @sink.handler = ->(req) { (n = Sink.batch_events(req.json).size) > 4 ? [413, {}] : [200, {"accepted" => n}] }
    configure_supervisor(url: @sink.url, mode: :async, batch_size: 16, flush_interval: 5)
    run_jobs(8)
    assert Sidekiq::Supervisor.flush(5)
    assert_equal 8, Sidekiq::Supervisor.stats[:sent], "8 rows (each read as started + succeeded)"
    delivered = @sink.requests.select { |r| Sink.batch_events(r.json).size <= 4 }.flat_map { |r| Sink.batch_events(r.json) }
    assert_equal 16, delivered.size
    assert_equal((0...8).flat_map { |i| ["r#{i}"] * 2 }, delivered.map { |e| e["job_id"] })
  end

  def test_shutdown_flushes
    configure_supervisor(url: @sink.url, mode: :async, batch_size: 1000, flush_interval: 60)
    publish(30)
    assert Sidekiq::Supervisor.shutdown(3)
    assert_equal 30, @sink.events.size
  end
end
