# frozen_string_literal: true

require_relative "test_helper"

# Payload conversion with hashes shaped like Sidekiq 6.x, 7.x (float seconds) and 8.x (integer ms).
class EventsTest < Minitest::Test
  E = Sidekiq::Supervisor::Events
  CTX = {occurred_at: "2026-11-23T21:00:00.000000Z", hostname: "web-1", pid: 42, instance: "main", send_payload: true}.freeze

  SIDEKIQ6_JOB = {
    "retry" => true, "queue" => "default", "class" => "HardJob", "args" => [1, "two"],
    "jid" => "6b1e6e7c3d2a4f5e6d7c8b9a", "created_at" => 1_700_000_000.123456, "enqueued_at" => 1_700_000_001.5
  }.freeze
  SIDEKIQ7_JOB = SIDEKIQ6_JOB.merge("jid" => "7b1e6e7c3d2a4f5e6d7c8b9a", "retry_for" => 3600).freeze
  SIDEKIQ8_JOB = {
    "retry" => true, "queue" => "critical", "class" => "HardJob", "args" => [1, "two"],
    "jid" => "8b1e6e7c3d2a4f5e6d7c8b9a", "created_at" => 1_700_000_000_123, "enqueued_at" => 1_700_000_001_500
  }.freeze

  def test_timestamp_float_seconds_6_and_7
    assert_equal "2023-11-14T22:13:20.123456Z", E.timestamp(1_700_000_000.123456)
  end

  def test_timestamp_integer_ms_8
    assert_equal "2023-11-14T22:13:20.123000Z", E.timestamp(1_700_000_000_123)
  end

  def test_timestamp_integer_seconds_and_other_forms
    assert_equal "2023-11-14T22:13:20.000000Z", E.timestamp(1_700_000_000)
    assert_equal "2023-11-14T22:13:20.500000Z", E.timestamp(1_700_000_000_500.0)
    assert_equal "2023-11-14T22:13:20.250000Z", E.timestamp("1700000000.25")
    assert_equal "2023-11-14T22:13:20.123000Z", E.timestamp("1700000000123")
    assert_equal "2023-11-14T21:13:20.000000Z", E.timestamp("2023-11-14T22:13:20+01:00")
    assert_equal "2023-11-14T22:13:20.000000Z", E.timestamp(Time.at(1_700_000_000))
    assert_nil E.timestamp(nil)
    assert_nil E.timestamp("not a time")
    assert_nil E.timestamp(Float::NAN)
    assert_nil E.timestamp("")
  end

  def test_queued_from_sidekiq6_hash
    ev = E.enqueued(SIDEKIQ6_JOB, "default", CTX)
    assert_equal "queued", ev["type"]
    assert_equal SIDEKIQ6_JOB["jid"], ev["job_id"]
    assert_equal "HardJob", ev["job_class"]
    assert_equal "default", ev["queue"]
    assert_equal '[1,"two"]', ev["arguments"]
    assert_equal SIDEKIQ6_JOB["args"].to_json, ev["arguments"]
    assert_equal "2023-11-14T22:13:20.123456Z", ev["created_at"]
    assert_equal "2023-11-14T22:13:21.500000Z", ev["enqueued_at"]
    assert_equal CTX[:occurred_at], ev["occurred_at"]
    assert_equal "main", ev["instance"]
    assert_equal "web-1", ev["hostname"]
    assert_equal 42, ev["pid"]
    refute ev.key?("retry_count"), "no retry_count on a first run"
    refute ev.key?("scheduled_at")
    assert_equal SIDEKIQ6_JOB, JSON.parse(ev["payload"])
  end

  def test_queued_from_sidekiq7_hash
    ev = E.enqueued(SIDEKIQ7_JOB, "default", CTX)
    assert_equal "queued", ev["type"]
    assert_equal "2023-11-14T22:13:20.123456Z", ev["created_at"]
  end

  def test_queued_from_sidekiq8_hash_converts_milliseconds
    ev = E.enqueued(SIDEKIQ8_JOB, "critical", CTX)
    assert_equal "2023-11-14T22:13:20.123000Z", ev["created_at"]
    assert_equal "2023-11-14T22:13:21.500000Z", ev["enqueued_at"]
    assert_equal "critical", ev["queue"]
  end

  def test_scheduled_when_at_is_present_all_versions
    [SIDEKIQ6_JOB, SIDEKIQ7_JOB, SIDEKIQ8_JOB].each do |job|
      ev = E.enqueued(job.merge("at" => 1_700_000_060.25), job["queue"], CTX)
      assert_equal "scheduled", ev["type"]
      assert_equal "2023-11-14T22:14:20.250000Z", ev["scheduled_at"]
    end
  end

  def test_queue_falls_back_to_job_queue_and_class_to_string
    ev = E.started({"jid" => "abc", "class" => String, "args" => [], "queue" => "low"}, nil, CTX)
    assert_equal "String", ev["job_class"]
    assert_equal "low", ev["queue"]
    assert_equal "[]", ev["arguments"]
  end

  def test_retry_count_on_later_runs
    ev = E.started(SIDEKIQ8_JOB.merge("retry_count" => 2, "failed_at" => 1_700_000_002_000), "critical", CTX)
    assert_equal 2, ev["retry_count"]
  end

  def test_succeeded_has_duration
    ev = E.succeeded(SIDEKIQ6_JOB, "default", 12.34567, CTX.merge(tid: "abc"))
    assert_equal "succeeded", ev["type"]
    assert_equal 12.346, ev["duration_ms"]
    assert_equal "abc", ev["tid"]
  end

  def test_failed_carries_error_and_truncated_backtrace
    ex = RuntimeError.new("boom")
    ex.set_backtrace((1..50).map { |i| "app/jobs/hard_job.rb:#{i}:in `perform'" })
    ev = E.failed(SIDEKIQ6_JOB.merge("retry_count" => 0), "default", ex, true, 5.0, CTX.merge(backtrace_lines: 20))
    assert_equal "failed", ev["type"]
    assert_equal "RuntimeError", ev["error_class"]
    assert_equal "boom", ev["error_message"]
    assert_equal 20, ev["error_backtrace"].size
    assert_equal "app/jobs/hard_job.rb:1:in `perform'", ev["error_backtrace"].first
    assert_equal true, ev["will_retry"]
    assert_equal 0, ev["retry_count"]
    assert_equal 5.0, ev["duration_ms"]
  end

  def test_failed_without_backtrace_and_will_retry_false
    ev = E.failed(SIDEKIQ6_JOB, "default", ArgumentError.new("x"), nil, nil, CTX)
    assert_equal false, ev["will_retry"]
    refute ev.key?("error_backtrace")
    refute ev.key?("duration_ms")
  end

  def test_retrying_and_interrupted
    assert_equal "retrying", E.retrying(SIDEKIQ6_JOB, "default", RuntimeError.new("x"), CTX)["type"]
    ev = E.interrupted(SIDEKIQ6_JOB, "default", 1.5, CTX)
    assert_equal "interrupted", ev["type"]
    assert_equal 1.5, ev["duration_ms"]
  end

  def test_dead_from_death_handler_hash_sidekiq6_and_8
    job6 = SIDEKIQ6_JOB.merge("retry_count" => 1, "error_class" => "RuntimeError", "error_message" => "boom",
      "failed_at" => 1_700_000_002.0, "retried_at" => 1_700_000_003.0)
    ev = E.dead(job6, RuntimeError.new("boom"), CTX)
    assert_equal "dead", ev["type"]
    assert_equal 1, ev["retry_count"]
    assert_equal "default", ev["queue"]
    assert_equal "RuntimeError", ev["error_class"]

    job8 = SIDEKIQ8_JOB.merge("retry_count" => 0, "error_class" => "KeyError", "error_message" => "missing",
      "failed_at" => 1_700_000_002_000, "discarded_at" => 1_700_000_002_001)
    ev = E.dead(job8, nil, CTX)
    assert_equal "KeyError", ev["error_class"]
    assert_equal "missing", ev["error_message"]
    assert_equal "critical", ev["queue"]
  end

  def test_invalid_utf8_is_scrubbed_not_raised
    bad = "caf\xC3".dup.force_encoding("BINARY")
    ev = E.failed(SIDEKIQ6_JOB.merge("args" => [bad]), "default", RuntimeError.new(bad), false, 1, CTX)
    json = E.encode(ev)
    parsed = JSON.parse(json)
    assert parsed["error_message"].start_with?("caf")
    assert parsed["arguments"].start_with?('["caf')
  end

  def test_non_finite_float_does_not_break_encoding
    json = E.encode({"events" => [{"x" => Float::NAN}]})
    assert_equal({"events" => [{"x" => "NaN"}]}, JSON.parse(json))
  end

  def test_send_arguments_off
    ev = E.started(SIDEKIQ6_JOB, "default", CTX.merge(send_arguments: false))
    refute ev.key?("arguments")
  end

  def test_only_contract_fields
    allowed = %w[type job_id occurred_at job_class queue arguments instance enqueued_at created_at scheduled_at
      hostname pid tid retry_count error_class error_message error_backtrace will_retry duration_ms payload]
    ex = RuntimeError.new("x")
    ex.set_backtrace(["a"])
    job = SIDEKIQ8_JOB.merge("at" => 1_700_000_060.0, "retry_count" => 1)
    evs = [E.enqueued(job, "q", CTX), E.started(job, "q", CTX.merge(tid: "t")), E.succeeded(job, "q", 1, CTX),
      E.failed(job, "q", ex, true, 1, CTX), E.retrying(job, "q", ex, CTX), E.dead(job, ex, CTX), E.interrupted(job, "q", 1, CTX)]
    evs.each do |ev|
      assert_empty ev.keys - allowed, "unexpected fields in #{ev["type"]}"
      assert_includes E::TYPES, ev["type"]
    end
  end

  def test_process_event_shape
    ev = E.process(:startup, CTX.merge(identity: "web-1:42:abc"))
    assert_equal({"type" => "process", "state" => "startup", "occurred_at" => CTX[:occurred_at], "instance" => "main",
                  "hostname" => "web-1", "pid" => 42, "identity" => "web-1:42:abc"}, ev)
  end

  def test_fast_json_path_matches_the_hash_builders
    ex = RuntimeError.new("bad \"quote\" \u00e9")
    ex.set_backtrace(%w[a b c])
    [SIDEKIQ6_JOB, SIDEKIQ7_JOB.merge("retry_count" => 3), SIDEKIQ8_JOB].each do |job|
      ctx = CTX.reject { |k, _| k == :occurred_at }
      at = "2026-11-23T21:00:00.123456Z"
      frag = E.run_fragment(job, job["queue"], ctx, "tid1", nil)
      jid = E.job_id_json(job)
      pairs = [
        [E.event_json("started", jid, at, frag), E.started(job, job["queue"], ctx, at: at, tid: "tid1")],
        [E.event_json("succeeded", jid, at, frag, E.duration_fragment(1.23456)),
          E.succeeded(job, job["queue"], 1.23456, ctx, at: at, tid: "tid1")],
        [E.event_json("failed", jid, at, frag, E.error_fragment(ex, ctx, true, 2.5)),
          E.failed(job, job["queue"], ex, true, 2.5, ctx, at: at, tid: "tid1")],
        [E.event_json("interrupted", jid, at, frag, E.duration_fragment(3)),
          E.interrupted(job, job["queue"], 3, ctx, at: at, tid: "tid1")]
      ]
      pairs.each { |fast, slow| assert_equal JSON.parse(JSON.generate(slow)), JSON.parse(fast), fast }
    end
  end

  def test_fast_path_escapes_odd_jids
    assert_equal({"j" => 'ab"c'}, JSON.parse("{\"j\":#{E.job_id_json({"jid" => 'ab"c'})}}"))
  end

  def test_str_json_matches_json_generate
    ["plain", "Mod::Klass", "ünïcødé", "quote\"d", "back\\slash", "tab\there", "nl\n", "", "\u2028",
      "ascii".encode("ASCII-8BIT"), "caf\xC3".dup.force_encoding("BINARY")].each do |s|
      expected = begin
        JSON.generate(s)
      rescue JSON::GeneratorError, EncodingError
        JSON.generate(E.scrub(s))
      end
      assert_equal expected, E.str_json(s), s.inspect
    end
  end

  def test_empty_strings_are_left_out
    ev = E.failed(SIDEKIQ6_JOB.merge("queue" => ""), "", RuntimeError.new(""), false, 1, CTX)
    refute ev.key?("error_message")
    refute ev.key?("queue")
    assert_equal "RuntimeError", ev["error_class"]
    frag = E.run_fragment(SIDEKIQ6_JOB.merge("class" => ""), "", CTX)
    refute_includes frag, '"job_class"'
    refute_includes frag, '"queue"'
  end

  def test_epoch_us_reads_every_sidekiq_time_shape
    assert_equal 1_700_000_000_123_456, E.epoch_us(1_700_000_000.123456), "6.x/7.x float seconds"
    assert_equal 1_700_000_000_123_000, E.epoch_us(1_700_000_000_123), "8.x integer milliseconds"
    assert_equal 1_700_000_000_000_000, E.epoch_us(1_700_000_000), "integer seconds"
    assert_equal 1_700_000_000_500_000, E.epoch_us("1700000000.5")
    assert_equal 1_700_000_000_123_500, E.epoch_us(1_700_000_000_123.5), "float milliseconds"
    [nil, -1.0, Float::NAN, Float::INFINITY, "soon", "2026-11-24T10:00:00Z", Object.new].each do |v|
      assert_nil E.epoch_us(v), v.inspect
    end
  end

  def test_retry_count_normalises_what_sidekiq_may_hold
    assert_equal 3, E.retry_count(3)
    assert_equal 3, E.retry_count(3.0)
    assert_equal 12, E.retry_count("12")
    assert_nil E.retry_count("x")
    assert_nil E.retry_count(Float::NAN)
  end

  def test_row_json_is_the_c_generator_output_and_survives_bad_encodings
    g = E.row_generator
    assert_same g, E.row_generator, "one generator state per thread, reused"
    refute_same g, Thread.new { E.row_generator }.value
    row = ["started", "abc", 1, "K", "q", "[1]", "t", nil, nil, nil, nil]
    assert_equal JSON.generate(row), E.row_json(row, g)
    bad = ["started", "abc", 1, "caf\xC3".dup.force_encoding("BINARY"), "q", nil, "t", nil, nil, nil, Float::NAN]
    assert_equal ["started", "abc", 1, "caf?", "q", nil, "t", nil, nil, nil, "NaN"], JSON.parse(E.row_json(bad, g))
    assert_equal "[1,\"two\"]", E.arguments_json([1, "two"], g)
  end
end
