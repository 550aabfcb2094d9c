# frozen_string_literal: true

require_relative "test_helper"

# Real TCP servers on 127.0.0.1; no mocks of Net::HTTP.
class TransportTest < Minitest::Test
  def setup
    @sink = Sink.new(token: "test-token").start
  end

  def teardown
    Sidekiq::Supervisor.reset!({})
    @sink.stop
  end

  def test_sync_event_goes_to_the_job_events_route_with_token
    configure_supervisor(url: @sink.url)
    ok = Sidekiq::Supervisor.reporter.publish(Sidekiq::Supervisor::Events.started(job_hash, "default", {}))
    assert ok
    req = @sink.requests.last
    assert_equal "POST", req.method
    assert_equal "/api/v1/jobs/0123456789abcdef01234567/events", req.path
    assert_equal "test-token", req.headers["private-token"]
    assert_equal "application/json", req.headers["content-type"]
    assert_equal "started", req.json["type"]
    assert_equal 1, Sidekiq::Supervisor.stats[:sent]
  end

  def test_path_prefix_of_the_url_is_kept
    configure_supervisor(url: "#{@sink.url}/supervisor/")
    Sidekiq::Supervisor.reporter.publish(Sidekiq::Supervisor::Events.started(job_hash, "default", {}))
    assert_equal "/supervisor/api/v1/jobs/0123456789abcdef01234567/events", @sink.requests.last.path
  end

  def test_keep_alive_reuses_one_connection
    configure_supervisor(url: @sink.url)
    20.times { |i| Sidekiq::Supervisor.reporter.publish(Sidekiq::Supervisor::Events.started(job_hash("jid" => "j#{i}"), "q", {})) }
    assert_equal 20, @sink.request_count
    assert_equal 1, @sink.connections, "20 sequential events over one persistent connection"
  end

  def test_threads_share_a_bounded_pool
    configure_supervisor(url: @sink.url, pool_size: 4)
    threads = 8.times.map do |t|
      Thread.new { 10.times { |i| Sidekiq::Supervisor.reporter.publish(Sidekiq::Supervisor::Events.started(job_hash("jid" => "t#{t}-#{i}"), "q", {})) } }
    end
    threads.each(&:join)
    assert_equal 80, @sink.request_count
    assert_operator @sink.connections, :<=, 8 + 8, "connections are reused, not one per request"
    assert_operator Sidekiq::Supervisor.reporter.transport.idle_count, :<=, 4
  end

  def test_server_that_never_answers_costs_at_most_the_read_timeout
    @sink.mode = :hang
    configure_supervisor(url: @sink.url, read_timeout: 0.3, failure_cooldown: 0)
    t0 = mono
    ok = Sidekiq::Supervisor.reporter.publish(Sidekiq::Supervisor::Events.started(job_hash, "default", {}))
    elapsed = mono - t0
    refute ok
    assert_operator elapsed, :>=, 0.25
    assert_operator elapsed, :<, 0.8, "bounded by read_timeout (0.3 s), took #{elapsed}"
    assert_equal 1, Sidekiq::Supervisor.stats[:failed]
    assert_match(/not delivered/, log_text)
  end

  def test_connection_refused_is_fast_and_logged_not_raised
    port = TCPServer.open("127.0.0.1", 0) { |s| s.addr[1] } # a port nobody listens on
    configure_supervisor(url: "http://127.0.0.1:#{port}")
    t0 = mono
    refute Sidekiq::Supervisor.reporter.publish(Sidekiq::Supervisor::Events.started(job_hash, "default", {}))
    assert_operator mono - t0, :<, 0.5
    assert_match(/ECONNREFUSED|refused/i, log_text)
  end

  def test_circuit_opens_after_consecutive_failures_and_drops_with_a_counter
    @sink.status = 503
    configure_supervisor(url: @sink.url, failure_threshold: 3, failure_cooldown: 0.5)
    10.times { Sidekiq::Supervisor.reporter.publish(Sidekiq::Supervisor::Events.started(job_hash, "default", {})) }
    assert_equal 3, @sink.request_count, "after 3 failures the circuit is open"
    assert_equal 7, Sidekiq::Supervisor.stats[:dropped_circuit]
    assert_equal 7, Sidekiq::Supervisor.stats[:dropped]
    sleep 0.6
    @sink.status = nil
    assert Sidekiq::Supervisor.reporter.publish(Sidekiq::Supervisor::Events.started(job_hash, "default", {}))
    assert_equal 4, @sink.request_count
  end

  def test_rejections_are_counted_and_do_not_open_the_circuit
    configure_supervisor(url: @sink.url, token: "wrong", failure_threshold: 1)
    3.times { refute Sidekiq::Supervisor.reporter.publish(Sidekiq::Supervisor::Events.started(job_hash, "default", {})) }
    assert_equal 3, @sink.request_count
    assert_equal 3, Sidekiq::Supervisor.stats[:rejected]
    assert_match(/HTTP 401/, log_text)
  end

  def test_warnings_are_rate_limited
    port = TCPServer.open("127.0.0.1", 0) { |s| s.addr[1] }
    configure_supervisor(url: "http://127.0.0.1:#{port}", failure_cooldown: 0)
    50.times { Sidekiq::Supervisor.reporter.publish(Sidekiq::Supervisor::Events.started(job_hash, "default", {})) }
    assert_equal 1, log_text.lines.grep(/not delivered/).size
  end

  def test_stale_keep_alive_connection_is_retried_once_on_a_fresh_one
    # The server answers, then closes the socket without saying so ("Connection: keep-alive").
    @sink.handler = ->(_req) { [201, {"ok" => true}] }
    configure_supervisor(url: @sink.url)
    r = Sidekiq::Supervisor.reporter
    assert r.publish(Sidekiq::Supervisor::Events.started(job_hash, "default", {}))
    # Close the server side of the idle connection: kill the sink's per-connection threads' sockets.
    @sink.instance_variable_get(:@threads).each(&:kill)
    sleep 0.05
    assert r.publish(Sidekiq::Supervisor::Events.started(job_hash, "default", {})), log_text
    assert_equal 2, @sink.request_count
  end

  def test_disabled_sends_nothing
    configure_supervisor(url: @sink.url, enabled: false)
    refute Sidekiq::Supervisor.reporter.publish(Sidekiq::Supervisor::Events.started(job_hash, "default", {}))
    assert_equal 0, @sink.request_count
  end
end
