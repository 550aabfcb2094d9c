# frozen_string_literal: true

require_relative "test_helper"
require "redis_server"

# The middleware and death handler, driven through Sidekiq's own middleware chain (no Redis needed for
# the server side), against a real TCP sink.
class MiddlewareTest < Minitest::Test
  class OkWorker
    include Sidekiq::Worker
    sidekiq_options retry: 2

    def perform(*); end
  end

  def setup
    @sink = Sink.new(token: "test-token").start
    configure_supervisor(url: @sink.url)
  end

  def teardown
    Sidekiq::Supervisor.reset!({})
    @sink.stop
  end

  def chain
    Sidekiq::Middleware::Chain.new { |c| c.add Sidekiq::Supervisor::Middleware::Server }
  end

  def run_job(job, &block)
    chain.invoke(OkWorker.new, job, "default", &block)
  end

  def types
    @sink.events.map { |e| e["type"] }
  end

  def test_started_then_succeeded_and_the_result_is_passed_through
    result = run_job(job_hash) { :the_result }
    assert_equal :the_result, result
    assert_equal %w[started succeeded], types
    s = @sink.events.last
    assert_operator s["duration_ms"], :>=, 0
    assert_equal Sidekiq::Supervisor::Compat.tid, s["tid"]
    assert_equal Process.pid, s["pid"]
  end

  def test_failure_is_reported_and_the_same_exception_re_raised
    err = assert_raises(ZeroDivisionError) { run_job(job_hash) { 1 / 0 } }
    assert_equal "divided by 0", err.message
    assert_equal %w[started failed retrying], types
    f = @sink.events[1]
    assert_equal true, f["will_retry"]
    assert_equal "ZeroDivisionError", f["error_class"]
    refute f.key?("retry_count")
    assert_equal 0, @sink.events[2]["retry_count"], "retrying carries the count of the scheduled retry"
    assert_equal "ZeroDivisionError", @sink.events[2]["error_class"]
    assert_equal f["occurred_at"], @sink.events[2]["occurred_at"]
  end

  def test_retrying_after_a_retry_carries_the_next_count
    assert_raises(RuntimeError) { run_job(job_hash("retry" => 5, "retry_count" => 1)) { raise "again" } }
    assert_equal %w[started failed retrying], types
    assert_equal 1, @sink.events[1]["retry_count"]
    assert_equal 2, @sink.events[2]["retry_count"]
  end

  def test_last_attempt_fails_without_retrying
    assert_raises(RuntimeError) { run_job(job_hash("retry" => 2, "retry_count" => 1)) { raise "again" } }
    assert_equal %w[started failed], types
    assert_equal false, @sink.events[1]["will_retry"]
    assert_equal 1, @sink.events[1]["retry_count"]
  end

  def test_hard_shutdown_is_reported_as_interrupted
    assert_raises(Sidekiq::Shutdown) { run_job(job_hash) { raise Sidekiq::Shutdown } }
    assert_equal %w[started interrupted], types
  end

  def test_death_handler
    job = job_hash("retry_count" => 2, "error_class" => "RuntimeError", "error_message" => "x")
    Sidekiq::Supervisor::Middleware::DEATH_HANDLER.call(job, RuntimeError.new("x"))
    assert_equal ["dead"], types
    assert_equal 2, @sink.events[0]["retry_count"]
  end

  def test_a_service_that_never_answers_does_not_stall_the_job_beyond_the_timeout
    @sink.mode = :hang
    configure_supervisor(url: @sink.url, read_timeout: 0.2, failure_cooldown: 0)
    t0 = mono
    assert_equal 42, run_job(job_hash) { 42 }
    elapsed = mono - t0
    # two events (started, succeeded), each bounded by the 0.2 s read timeout
    assert_operator elapsed, :<, 0.2 * 2 + 0.4, "job took #{elapsed}s"
    assert_equal 2, Sidekiq::Supervisor.stats[:failed]
  end

  def test_with_the_circuit_breaker_a_hanging_service_costs_one_timeout_per_cooldown
    @sink.mode = :hang
    configure_supervisor(url: @sink.url, read_timeout: 0.2, failure_threshold: 1, failure_cooldown: 30)
    t0 = mono
    10.times { run_job(job_hash) { 1 } }
    assert_operator mono - t0, :<, 0.6, "10 jobs, 20 events, one timeout"
    assert_equal 19, Sidekiq::Supervisor.stats[:dropped_circuit]
  end

  def test_async_mode_never_waits_for_a_hanging_service
    @sink.mode = :hang
    configure_supervisor(url: @sink.url, mode: :async, batch_size: 1, batch_read_timeout: 30)
    t0 = mono
    100.times { run_job(job_hash) { 1 } }
    assert_operator mono - t0, :<, 0.5
  end

  def test_disabled_means_no_events_and_jobs_still_run
    configure_supervisor(url: @sink.url, enabled: false)
    assert_equal 7, run_job(job_hash) { 7 }
    assert_raises(RuntimeError) { run_job(job_hash) { raise "x" } }
    assert_empty @sink.requests
  end

  def test_internal_errors_never_reach_the_job
    # A job hash that breaks event building (args that cannot be serialized at all).
    weird = Object.new
    def weird.to_json(*) = raise("nope")
    def weird.to_s = raise("nope either")
    assert_equal :ok, run_job(job_hash("args" => [weird], "class" => weird)) { :ok }
  end

  def test_client_middleware_reports_queued_only_when_pushed
    mw = Sidekiq::Supervisor::Middleware::Client.new
    assert_equal :pushed, mw.call(OkWorker, job_hash, "default", nil) { :pushed }
    assert_nil mw.call(OkWorker, job_hash("jid" => "stopped"), "default", nil) { nil }
    assert_equal ["queued"], types
    assert_equal "0123456789abcdef01234567", @sink.events[0]["job_id"]
  end

  def test_client_middleware_marks_a_job_once_its_queued_event_is_reported
    mw = Sidekiq::Supervisor::Middleware::Client.new
    job = job_hash
    mw.call(OkWorker, job, "default", nil) { job }
    assert_equal 1, job[Sidekiq::Supervisor::MARK]
    refute JSON.parse(@sink.events[0]["payload"]).key?(Sidekiq::Supervisor::MARK), "the reported payload is the job as pushed"
    stopped = job_hash("jid" => "stopped")
    mw.call(OkWorker, stopped, "default", nil) { nil }
    refute stopped.key?(Sidekiq::Supervisor::MARK), "not pushed, not reported"
  end

  def test_client_middleware_leaves_the_job_unmarked_when_its_event_was_not_delivered
    @sink.status = 500
    mw = Sidekiq::Supervisor::Middleware::Client.new
    job = job_hash
    mw.call(OkWorker, job, "default", nil) { job }
    refute job.key?(Sidekiq::Supervisor::MARK), "its runs must then send the class, queue and arguments"
    configure_supervisor(url: @sink.url, enabled: false)
    off = job_hash
    mw.call(OkWorker, off, "default", nil) { off }
    refute off.key?(Sidekiq::Supervisor::MARK)
  end

  def test_a_marked_job_sends_only_what_its_run_adds_and_an_unmarked_one_its_identity
    run_job(job_hash("jid" => "marked", Sidekiq::Supervisor::MARK => 1)) { 1 }
    assert_raises(RuntimeError) { run_job(job_hash("jid" => "markedfail", "retry_count" => 0, Sidekiq::Supervisor::MARK => 1)) { raise "x" } }
    run_job(job_hash("jid" => "plain")) { 1 }
    identity = %w[job_class queue arguments created_at]
    by_jid = @sink.events.group_by { |e| e["job_id"] }
    assert_equal %w[started succeeded], by_jid["marked"].map { |e| e["type"] }
    by_jid["marked"].each { |e| assert_empty e.keys & identity, e["type"] }
    started, failed, retrying = by_jid["markedfail"]
    assert_empty started.keys & identity
    assert_empty failed.keys & identity
    assert_equal [0, "RuntimeError"], failed.values_at("retry_count", "error_class")
    assert_equal "HardJob", retrying["job_class"], "retrying and dead keep their full form"
    by_jid["plain"].each { |e| assert_equal ["HardJob", "default", '[1,"two",{"three":3}]'], e.values_at("job_class", "queue", "arguments") }
    assert_equal by_jid["marked"][0]["enqueued_at"], by_jid["plain"][0]["enqueued_at"], "a run's own enqueued_at stays"
  end

  def test_client_middleware_reports_scheduled
    mw = Sidekiq::Supervisor::Middleware::Client.new
    mw.call("OkWorker", job_hash("at" => Time.now.to_f + 60), "default", nil) { true }
    assert_equal ["scheduled"], types
    assert @sink.events[0]["scheduled_at"]
  end

  def test_process_events_are_on_by_default_and_go_to_the_batch_route
    configure_supervisor(url: @sink.url, process_events: false)
    Sidekiq::Supervisor.report_process(:startup)
    assert_empty @sink.requests
    configure_supervisor(url: @sink.url, instance: "billing")
    Sidekiq::Supervisor.report_process(:quiet)
    req = @sink.requests.last
    assert_equal "/api/v1/events", req.path
    ev = req.json["events"].first
    assert_equal "process", ev["type"]
    assert_equal "quiet", ev["state"]
    assert_equal "billing", ev["instance"]
    assert_equal Process.pid, ev["pid"]
  end

  def test_install_server_registers_middleware_death_handler_and_hooks_once
    cfg = Sidekiq::Supervisor::Compat.default_config
    configure_supervisor(url: @sink.url, process_events: true)
    before_startup = Sidekiq.options[:lifecycle_events][:startup].size
    2.times { Sidekiq::Supervisor.install_server(cfg) }
    assert_equal Sidekiq::Supervisor::Middleware::Server, Sidekiq.server_middleware.entries.first.klass
    assert_equal 1, Sidekiq.server_middleware.count { |e| e.klass == Sidekiq::Supervisor::Middleware::Server }
    assert_equal 1, Sidekiq.death_handlers.count { |h| h.equal?(Sidekiq::Supervisor::Middleware::DEATH_HANDLER) }
    Sidekiq.options[:lifecycle_events][:startup].last.call
    assert_equal "process", @sink.events.last["type"]
    assert_equal before_startup + 1, Sidekiq.options[:lifecycle_events][:startup].size
  ensure
    Sidekiq.server_middleware.remove(Sidekiq::Supervisor::Middleware::Server)
    Sidekiq.death_handlers.delete(Sidekiq::Supervisor::Middleware::DEATH_HANDLER)
  end

  def test_skips_reports_while_sidekiq_testing_is_active
    require "sidekiq/testing"
    Sidekiq::Testing.fake! do
      run_job(job_hash) { 1 }
    end
    assert_empty @sink.requests
  ensure
    Sidekiq::Testing.disable! if defined?(Sidekiq::Testing)
  end
end

# Sidekiq::Client.push through the real client middleware chain into a real Redis.
class ClientPushTest < Minitest::Test
  class PushWorker
    include Sidekiq::Worker
    sidekiq_options queue: "supervisor_test"

    def perform(*); end
  end

  def setup
    url = TestRedis.url or skip("no redis-server")
    Sidekiq.redis = {url: url}
    @sink = Sink.new(token: "test-token").start
    configure_supervisor(url: @sink.url)
    Sidekiq::Supervisor.install_client(Sidekiq::Supervisor::Compat.default_config)
  end

  def teardown
    Sidekiq.client_middleware.remove(Sidekiq::Supervisor::Middleware::Client)
    Sidekiq::Supervisor.reset!({})
    @sink&.stop
  end

  def test_perform_async_perform_in_and_bulk
    jid = PushWorker.perform_async(1, "a")
    sjid = PushWorker.perform_in(30, 2)
    bulk = Sidekiq::Client.push_bulk("class" => PushWorker, "args" => [[3], [4]])
    evs = @sink.events
    assert_equal [jid, sjid, *bulk], evs.map { |e| e["job_id"] }
    assert_equal %w[queued scheduled queued queued], evs.map { |e| e["type"] }
    assert_equal "supervisor_test", evs[0]["queue"]
    assert_equal "ClientPushTest::PushWorker", evs[0]["job_class"]
    assert_equal '[1,"a"]', evs[0]["arguments"]
    payload = JSON.parse(evs[0]["payload"])
    assert_equal jid, payload["jid"]
    stored = Sidekiq.redis { |c| c.lrange("queue:supervisor_test", 0, -1) }.map { |j| JSON.parse(j) }
    assert_equal [1], stored.map { |j| j[Sidekiq::Supervisor::MARK] }.uniq, "Sidekiq stores the mark with each job"
    assert Time.iso8601(evs[1]["scheduled_at"]) > Time.now + 20
  ensure
    Sidekiq.redis { |c| c.del("queue:supervisor_test", "schedule") }
  end

  def test_install_is_idempotent
    Sidekiq::Supervisor.install_client(Sidekiq::Supervisor::Compat.default_config)
    assert_equal 1, Sidekiq.client_middleware.count { |e| e.klass == Sidekiq::Supervisor::Middleware::Client }
  end
end
