# frozen_string_literal: true

require_relative "test_helper"
require "redis_server"

# The deploy mark against a real sink and a real Redis (the key that makes it once per revision
# and instance).
class DeployTest < Minitest::Test
  def setup
    url = TestRedis.url or skip("no redis-server")
    Sidekiq.redis = {url: url}
    @sink = Sink.new(token: "test-token").start
  end

  def teardown
    Sidekiq.redis { |c| c.del(*c.keys("supervisor:deploy:*")) if c.keys("supervisor:deploy:*").any? }
    Sidekiq::Supervisor.reset!({})
    @sink&.stop
  end

  def deploys
    @sink.requests.select { |r| r.path == "/api/v1/deploys" }
  end

  def test_the_revision_comes_from_our_variable_then_heroku_s
    assert_equal "abc", Sidekiq::Supervisor::Configuration.new("SIDEKIQ_SUPERVISOR_REVISION" => "abc", "HEROKU_SLUG_COMMIT" => "h").revision
    assert_equal "h", Sidekiq::Supervisor::Configuration.new("SIDEKIQ_SUPERVISOR_REVISION" => " ", "HEROKU_SLUG_COMMIT" => "h").revision
    assert_equal "s", Sidekiq::Supervisor::Configuration.new("SOURCE_VERSION" => "s").revision
    assert_nil Sidekiq::Supervisor::Configuration.new({}).revision
  end

  def test_one_mark_per_revision_and_instance_whatever_the_number_of_processes
    configure_supervisor(url: @sink.url, revision: "r1", instance: "billing")
    assert_equal :sent, Sidekiq::Supervisor.report_deploy
    assert_equal :already, Sidekiq::Supervisor.report_deploy, "a second process of the same deploy"
    assert_equal [{"instance" => "billing", "revision" => "r1"}], deploys.map(&:json)
    assert_equal "test-token", deploys.first.headers["private-token"]
    configure_supervisor(url: @sink.url, revision: "r2", instance: "billing")
    assert_equal :sent, Sidekiq::Supervisor.report_deploy
    configure_supervisor(url: @sink.url, revision: "r2")
    assert_equal :sent, Sidekiq::Supervisor.report_deploy
    assert_equal [%w[billing r1], %w[billing r2], %w[default r2]], deploys.map { |r| r.json.values_at("instance", "revision") }
  end

  def test_a_service_without_the_route_is_left_alone_and_the_next_boot_tries_again
    @sink.handler = ->(req) { req.path == "/api/v1/deploys" ? [404, {"message" => "Cannot POST"}] : [200, {}] }
    configure_supervisor(url: @sink.url, revision: "r3")
    assert_equal :no_route, Sidekiq::Supervisor.report_deploy
    refute_match(/WARN/, log_text)
    @sink.handler = nil
    assert_equal :sent, Sidekiq::Supervisor.report_deploy
  end

  def test_nothing_is_sent_without_a_revision_or_when_switched_off
    configure_supervisor(url: @sink.url)
    assert_nil Sidekiq::Supervisor.report_deploy
    configure_supervisor(url: @sink.url, revision: "r4", enabled: false)
    assert_nil Sidekiq::Supervisor.report_deploy
    assert_empty deploys
  end

  def test_a_failed_send_frees_the_revision_for_the_next_boot
    @sink.status = 503
    configure_supervisor(url: @sink.url, revision: "r5")
    assert_equal :failed, Sidekiq::Supervisor.report_deploy
    @sink.status = nil
    assert_equal :sent, Sidekiq::Supervisor.report_deploy
  end

  # What configure_server yields, reduced to what install_server uses (a Sidekiq 7-style config).
  class FakeServerConfig
    attr_reader :hooks, :death_handlers

    def initialize
      @hooks = Hash.new { |h, k| h[k] = [] }
      @death_handlers = []
    end

    def server_middleware
      yield Sidekiq::Middleware::Chain.new
    end

    def on(event, &block)
      @hooks[event] << block
    end
  end

  def test_the_server_boot_sends_it_without_waiting_for_it
    configure_supervisor(url: @sink.url, revision: "r6", process_events: false)
    cfg = FakeServerConfig.new
    Sidekiq::Supervisor.install_server(cfg)
    assert_equal 1, cfg.hooks[:startup].size
    sender = cfg.hooks[:startup].first.call
    assert_kind_of Thread, sender
    sender.join(5)
    assert_equal [{"instance" => "default", "revision" => "r6"}], deploys.map(&:json)
  end

  def test_no_boot_hook_without_a_revision
    configure_supervisor(url: @sink.url, process_events: false)
    cfg = FakeServerConfig.new
    Sidekiq::Supervisor.install_server(cfg)
    assert_empty cfg.hooks[:startup]
  end
end
