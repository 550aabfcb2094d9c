# frozen_string_literal: true

require_relative "test_helper"

# install_client / install_server against a stand-in for Sidekiq 7/8's Sidekiq::Config (which only the
# real gem can provide): the same duck type (client_middleware/server_middleware yielding a chain,
# death_handlers, on(event) with :exit known on 8.x, [] for options).
class InstallTest < Minitest::Test
  class FakeConfig
    attr_reader :death_handlers, :events

    def initialize(events)
      @client = Sidekiq::Middleware::Chain.new
      @server = Sidekiq::Middleware::Chain.new
      @death_handlers = []
      @events = events.to_h { |e| [e, []] }
      @options = {max_retries: 5}
    end

    def client_middleware
      yield @client if block_given?
      @client
    end

    def server_middleware
      yield @server if block_given?
      @server
    end

    def on(event, &block)
      raise ArgumentError, "Invalid event name: #{event}" unless @events.key?(event)
      @events[event] << block
    end

    def [](key)
      @options[key]
    end
  end

  def setup
    @sink = Sink.new(token: "test-token").start
  end

  def teardown
    Sidekiq::Supervisor.reset!({})
    @sink.stop
  end

  def test_sidekiq8_shaped_config_gets_everything_and_an_exit_flush
    configure_supervisor(url: @sink.url, mode: :async, process_events: true, flush_interval: 60)
    cfg = FakeConfig.new(%i[startup quiet shutdown exit heartbeat beat])
    Sidekiq::Supervisor.install_client(cfg)
    Sidekiq::Supervisor.install_server(cfg)
    Sidekiq::Supervisor.install_server(cfg) # idempotent
    assert_equal [Sidekiq::Supervisor::Middleware::Client], cfg.client_middleware.map(&:klass)
    assert_equal [Sidekiq::Supervisor::Middleware::Server], cfg.server_middleware.map(&:klass)
    assert_equal [Sidekiq::Supervisor::Middleware::DEATH_HANDLER], cfg.death_handlers
    assert_equal 2, cfg.events[:startup].size, "the process event, and async mode's sender thread started at boot"
    assert_equal 1, cfg.events[:exit].size

    Sidekiq::Supervisor.report_started(Sidekiq::Supervisor.run_info(job_hash, "default"))
    assert_equal 0, @sink.events.size, "buffered (flush interval 60 s)"
    cfg.events[:exit].each(&:call) # Sidekiq 8 fires :exit after all jobs finished
    assert_equal %w[started process], @sink.events.map { |e| e["type"] }.sort.reverse
  end

  def test_sidekiq7_shaped_config_without_exit_event
    configure_supervisor(url: @sink.url, process_events: false)
    cfg = FakeConfig.new(%i[startup quiet shutdown heartbeat beat])
    Sidekiq::Supervisor.install_server(cfg)
    assert_empty cfg.events[:startup], "process events switched off"
    assert_equal [Sidekiq::Supervisor::Middleware::Server], cfg.server_middleware.map(&:klass)
    assert_equal 5, Sidekiq::Supervisor::Compat.setting(:max_retries, cfg)
  end

  def test_install_registers_nothing_when_switched_off
    Sidekiq::Supervisor.reset!({"SIDEKIQ_SUPERVISOR_URL" => @sink.url, "SIDEKIQ_SUPERVISOR_ENABLED" => "false"})
    Sidekiq::Supervisor.configure { |c| c.logger = Logger.new(StringIO.new) }
    Sidekiq::Supervisor.instance_variable_set(:@installed, false)
    before = Sidekiq.client_middleware.entries.size
    Sidekiq::Supervisor.install!
    assert_equal before, Sidekiq.client_middleware.entries.size
    refute Sidekiq.client_middleware.exists?(Sidekiq::Supervisor::Middleware::Client)
  ensure
    Sidekiq::Supervisor.instance_variable_set(:@installed, false)
  end
end
