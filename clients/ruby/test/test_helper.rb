# frozen_string_literal: true

$LOAD_PATH.unshift File.expand_path("../lib", __dir__)
$LOAD_PATH.unshift File.expand_path("support", __dir__)

require "minitest/autorun"
require "logger"
require "stringio"
require "sidekiq/supervisor"
require "sink"

Redis.silence_deprecations = true if defined?(Redis) && Redis.respond_to?(:silence_deprecations=)

module SupervisorTestHelpers
  def mono
    Process.clock_gettime(Process::CLOCK_MONOTONIC)
  end

  # A fresh configuration pointing at url (no env leakage), with a capturing logger.
  def configure_supervisor(url:, token: "test-token", mode: :sync, **opts)
    @log = StringIO.new
    Sidekiq::Supervisor.reset!({})
    Sidekiq::Supervisor.configure do |c|
      c.url = url
      c.token = token
      c.mode = mode
      c.logger = Logger.new(@log)
      opts.each { |k, v| c.public_send("#{k}=", v) }
    end
  end

  def log_text
    @log ? @log.string : ""
  end

  def job_hash(overrides = {})
    {
      "class" => "HardJob", "args" => [1, "two", {"three" => 3}], "retry" => true, "queue" => "default",
      "jid" => "0123456789abcdef01234567", "created_at" => 1_700_000_000.123456,
      "enqueued_at" => 1_700_000_000.654321
    }.merge(overrides)
  end
end

class Minitest::Test
  include SupervisorTestHelpers
end
