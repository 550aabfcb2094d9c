# frozen_string_literal: true

require_relative "test_helper"

# Process events and the heartbeat (on by default): Sidekiq's identity of the process, one boot time
# per life, beats from the async sender thread (no thread of its own) or, in sync mode, one timer.
class HeartbeatTest < Minitest::Test
  def setup
    # a timer or sender thread stopped by an earlier test ends after its current send: on a loaded
    # host that can outlast the stop's own join (1 s, 0.5 s), and this file counts threads by name
    Thread.list.select { |t| t.name.to_s.start_with?("sidekiq-supervisor") }.each { |t| t.join(10) }
    @sink = Sink.new(token: "test-token").start
  end

  def teardown
    Sidekiq::Supervisor.reset!({})
    @sink.stop
  end

  def beats
    @sink.events.select { |e| e["type"] == "process" && e["state"] == "heartbeat" }
  end

  def test_heartbeat_interval_from_the_environment
    c = Sidekiq::Supervisor::Configuration.new("SIDEKIQ_SUPERVISOR_HEARTBEAT_INTERVAL" => "2.5")
    assert_equal 2.5, c.heartbeat_interval
    assert_equal 10.0, Sidekiq::Supervisor::Configuration.new("SIDEKIQ_SUPERVISOR_HEARTBEAT_INTERVAL" => "soon").heartbeat_interval
  end

  def test_process_events_carry_sidekiqs_identity_and_one_boot_time
    configure_supervisor(url: @sink.url, instance: "billing")
    Sidekiq::Supervisor.report_process(:startup)
    Sidekiq::Supervisor.report_process(:shutdown)
    startup, shutdown = @sink.events
    # the member of Sidekiq's processes set, made by Sidekiq's own code (6.x Sidekiq::Util)
    require "sidekiq/util"
    assert_equal Object.new.extend(Sidekiq::Util).identity, startup["identity"]
    assert_match(/\A[^:]+:#{Process.pid}:[0-9a-f]{12}\z/, startup["identity"])
    assert_equal %w[startup shutdown], [startup["state"], shutdown["state"]]
    assert_equal startup["started_at_us"], shutdown["started_at_us"]
    assert_kind_of Integer, startup["started_at_us"]
    assert_operator startup["started_at_us"], :<=, Process.clock_gettime(Process::CLOCK_REALTIME, :microsecond)
    assert_equal [Sidekiq::VERSION, Sidekiq::Supervisor::VERSION, "billing", Process.pid],
      startup.values_at("sidekiq_version", "client_version", "instance", "pid")
  end

  def test_async_heartbeats_come_from_the_sender_thread_with_its_batches
    configure_supervisor(url: @sink.url, mode: :async, heartbeat_interval: 0.2, flush_interval: 0.05)
    assert Sidekiq::Supervisor.start_heartbeat
    assert @sink.wait_for(5) { beats.size >= 3 }, "heartbeats every 0.2 s: #{@sink.events.inspect}"
    assert_equal ["sidekiq-supervisor"], Thread.list.map(&:name).grep(/sidekiq-supervisor/), "only the sender thread"
    first, second = beats
    assert_equal first["identity"], second["identity"]
    gap = Time.iso8601(second["occurred_at"]) - Time.iso8601(first["occurred_at"])
    assert_operator gap, :>=, 0.19, "one per interval, not one per tick"
    assert_equal ["/api/v1/events"], @sink.requests.map(&:path).uniq
    Sidekiq::Supervisor.shutdown(1)
    sent = beats.size
    sleep 0.5
    assert_equal sent, beats.size, "no heartbeat after shutdown"
  end

  def test_sync_mode_beats_from_one_small_timer_thread_that_stops_with_shutdown
    configure_supervisor(url: @sink.url, heartbeat_interval: 0.1)
    assert Sidekiq::Supervisor.start_heartbeat
    assert @sink.wait_for(5) { beats.size >= 2 }
    assert_equal 1, Thread.list.count { |t| t.name == "sidekiq-supervisor-heartbeat" }
    Sidekiq::Supervisor.shutdown(1)
    assert_equal 0, Thread.list.count { |t| t.name == "sidekiq-supervisor-heartbeat" && t.alive? }
    sent = beats.size
    sleep 0.3
    assert_equal sent, beats.size
  end

  def test_no_heartbeat_when_switched_off
    configure_supervisor(url: @sink.url, mode: :async, heartbeat_interval: 0)
    refute Sidekiq::Supervisor.start_heartbeat
    configure_supervisor(url: @sink.url, mode: :async, heartbeat_interval: 0.1, process_events: false)
    refute Sidekiq::Supervisor.start_heartbeat
    sleep 0.3
    assert_empty @sink.events
  end

  def test_the_startup_hook_reports_startup_then_beats
    configure_supervisor(url: @sink.url, mode: :async, heartbeat_interval: 0.1, flush_interval: 0.05)
    cfg = InstallTest::FakeConfig.new(%i[startup quiet shutdown])
    Sidekiq::Supervisor.install_server(cfg)
    assert_equal 2, cfg.events[:startup].size, "the process event, and async mode's sender thread started at boot"
    cfg.events[:startup].each(&:call)
    assert @sink.wait_for(5) { beats.size >= 2 }
    cfg.events[:shutdown].each(&:call)
    states = @sink.events.map { |e| e["state"] }
    assert_equal "startup", states.first
    assert_includes states, "shutdown"
    # the sender thread keeps beating after shutdown while Sidekiq finishes its jobs
    n = beats.size
    assert @sink.wait_for(5) { beats.size > n }
  end
end
