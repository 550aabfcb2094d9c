# frozen_string_literal: true

require_relative "test_helper"

class ConfigurationTest < Minitest::Test
  C = Sidekiq::Supervisor::Configuration

  def test_defaults_without_env
    c = C.new({})
    refute c.enabled?, "no URL -> disabled"
    assert_equal :sync, c.mode
    assert_equal 0.5, c.open_timeout
    assert_equal 1.0, c.read_timeout
    assert_equal 10_000, c.buffer_size
    assert_equal 500, c.effective_batch_size
    assert_equal true, c.process_events, "on by default since the service accepts them"
    assert_equal 10.0, c.heartbeat_interval, "Sidekiq's own beat"
    assert_nil c.instance_name
  end

  def test_env
    c = C.new(
      "SIDEKIQ_SUPERVISOR_URL" => "http://127.0.0.1:3000/", "SIDEKIQ_SUPERVISOR_TOKEN" => "tok",
      "SIDEKIQ_SUPERVISOR_MODE" => "ASYNC", "SIDEKIQ_SUPERVISOR_INSTANCE" => "billing",
      "SIDEKIQ_SUPERVISOR_OPEN_TIMEOUT" => "0.2", "SIDEKIQ_SUPERVISOR_READ_TIMEOUT" => "0.3",
      "SIDEKIQ_SUPERVISOR_BUFFER_SIZE" => "50", "SIDEKIQ_SUPERVISOR_BATCH_SIZE" => "5000",
      "SIDEKIQ_SUPERVISOR_PROCESS_EVENTS" => "yes", "SIDEKIQ_SUPERVISOR_SEND_PAYLOAD" => "off"
    )
    assert c.enabled?
    assert c.async?
    assert_equal "tok", c.token
    assert_equal "billing", c.instance_name
    assert_equal 0.2, c.open_timeout
    assert_equal 0.3, c.read_timeout
    assert_equal 50, c.buffer_size
    assert_equal 1000, c.effective_batch_size, "batch size is capped at the route's limit"
    assert_equal true, c.process_events
    assert_equal false, c.send_payload
    assert_equal "http://127.0.0.1:3000", c.base_uri.to_s
    assert_empty c.validate
  end

  def test_enabled_switch
    base = {"SIDEKIQ_SUPERVISOR_URL" => "http://x:1", "SIDEKIQ_SUPERVISOR_TOKEN" => "t"}
    refute C.new(base.merge("SIDEKIQ_SUPERVISOR_ENABLED" => "false")).enabled?
    refute C.new(base.merge("SIDEKIQ_SUPERVISOR_ENABLED" => "0")).enabled?
    assert C.new(base.merge("SIDEKIQ_SUPERVISOR_ENABLED" => "true")).enabled?
    assert C.new(base.merge("SIDEKIQ_SUPERVISOR_ENABLED" => "")).enabled?
    refute C.new("SIDEKIQ_SUPERVISOR_ENABLED" => "true").enabled?, "enabled but no URL"
    c = C.new(base)
    c.enabled = false
    refute c.enabled?
  end

  def test_url_normalisation
    c = C.new({})
    c.url = "http://h:8080/prefix/api/v1/"
    assert_equal "/prefix", c.base_path
    c.url = "h:9000"
    assert_equal "http://h:9000", c.base_uri.to_s
    c.url = "https://sup.example.com"
    assert_equal "", c.base_path
    assert_equal "https", c.base_uri.scheme
  end

  def test_seed_host_variable_is_a_fallback
    c = C.new("SIDEKIQ_SUPERVISOR_HOST" => "http://old:3000")
    assert_equal "http://old:3000", c.base_uri.to_s
  end

  def test_bad_values_fall_back_and_validate_reports_names
    c = C.new("SIDEKIQ_SUPERVISOR_URL" => "http://x:1", "SIDEKIQ_SUPERVISOR_READ_TIMEOUT" => "soon")
    assert_equal 1.0, c.read_timeout
    assert_equal ["SIDEKIQ_SUPERVISOR_TOKEN is missing"], c.validate
    assert_raises(ArgumentError) { c.mode = :sometimes }
  end

  def test_configure_block_overrides_env
    Sidekiq::Supervisor.reset!("SIDEKIQ_SUPERVISOR_URL" => "http://a:1", "SIDEKIQ_SUPERVISOR_TOKEN" => "t")
    Sidekiq::Supervisor.configure do |c|
      c.url = "http://b:2"
      c.mode = :async
      c.logger = Logger.new(StringIO.new)
    end
    assert_equal "http://b:2", Sidekiq::Supervisor.configuration.base_uri.to_s
    assert Sidekiq::Supervisor.configuration.async?
  ensure
    Sidekiq::Supervisor.reset!({})
  end

  def test_to_h_never_shows_the_token
    c = C.new("SIDEKIQ_SUPERVISOR_URL" => "http://x:1", "SIDEKIQ_SUPERVISOR_TOKEN" => "secret")
    refute_includes c.to_h.inspect, "secret"
  end

  def test_instance_name_is_checked_against_the_service_pattern
    base = {"SIDEKIQ_SUPERVISOR_URL" => "http://x:1", "SIDEKIQ_SUPERVISOR_TOKEN" => "t"}
    assert_empty C.new(base.merge("SIDEKIQ_SUPERVISOR_INSTANCE" => "billing-eu_1")).validate
    assert_match(/INSTANCE/, C.new(base.merge("SIDEKIQ_SUPERVISOR_INSTANCE" => "billing eu")).validate.join)
  end
end
