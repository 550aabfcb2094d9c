# frozen_string_literal: true

require_relative "test_helper"

class CompatTest < Minitest::Test
  X = Sidekiq::Supervisor::Compat

  class RetryTwice
    include Sidekiq::Worker
    sidekiq_options retry: 2
  end

  class NoRetry
    include Sidekiq::Worker
    sidekiq_options retry: false
  end

  NOW = 1_700_000_100.0

  def will(job, worker: nil, major: 6, max: 25)
    X.will_retry?(worker, job, max_retries: max, now: NOW, major: major)
  end

  def test_retry_true_uses_max_retries
    assert will({"retry" => true})
    assert will({"retry" => true, "retry_count" => 23})
    refute will({"retry" => true, "retry_count" => 24}), "25th retry is the last"
    refute will({"retry" => true, "retry_count" => 2}, max: 3)
  end

  def test_integer_retry
    refute will({"retry" => 0}), "retry: 0 -> dies on the first failure"
    assert will({"retry" => 1})
    refute will({"retry" => 1, "retry_count" => 0})
  end

  def test_retry_disabled
    refute will({"retry" => false})
    refute will({"retry" => nil}, worker: NoRetry.new)
    refute will({}, worker: nil)
  end

  def test_missing_retry_falls_back_to_worker_options
    assert will({}, worker: RetryTwice.new)
    refute will({"retry_count" => 1}, worker: RetryTwice.new)
  end

  def test_retry_for_sidekiq7_float_seconds_also_honours_count
    assert will({"retry" => true, "retry_for" => 60}, major: 7), "first failure: failed_at is now"
    assert will({"retry" => true, "retry_for" => 60, "retry_count" => 0, "failed_at" => NOW - 30}, major: 7)
    refute will({"retry" => true, "retry_for" => 60, "retry_count" => 0, "failed_at" => NOW - 90}, major: 7)
    refute will({"retry" => 1, "retry_for" => 3600, "retry_count" => 0, "failed_at" => NOW - 10}, major: 7),
      "7.x checks the count before retry_for"
  end

  def test_retry_for_sidekiq8_integer_ms_replaces_count
    assert will({"retry" => 1, "retry_for" => 3600, "retry_count" => 5, "failed_at" => ((NOW - 10) * 1000).to_i}, major: 8),
      "8.x: retry_for and retry are mutually exclusive"
    refute will({"retry" => true, "retry_for" => 60, "retry_count" => 0, "failed_at" => ((NOW - 90) * 1000).to_i}, major: 8)
  end

  def test_max_retries_from_sidekiq6_options
    old = Sidekiq.options[:max_retries]
    Sidekiq.options[:max_retries] = 7
    assert_equal 7, X.max_retries
    assert_equal 3, X.max_retries(3)
  ensure
    Sidekiq.options[:max_retries] = old
  end

  def test_setting_reads_a_sidekiq7_style_config_object
    cfg = Struct.new(:h) { def [](k) = h[k] }.new({max_retries: 9})
    assert_equal 9, X.setting(:max_retries, cfg)
  end

  def test_default_config_is_the_sidekiq_module_on_6
    if Sidekiq.respond_to?(:default_configuration)
      assert_equal Sidekiq.default_configuration, X.default_config
    else
      assert_equal Sidekiq, X.default_config
    end
  end

  def test_shutdown_exception_detection
    assert X.shutdown_exception?(Sidekiq::Shutdown.new)
    wrapped = begin
      begin
        raise Sidekiq::Shutdown
      rescue Sidekiq::Shutdown
        raise "db rollback"
      end
    rescue RuntimeError => e
      e
    end
    assert X.shutdown_exception?(wrapped)
    refute X.shutdown_exception?(RuntimeError.new("x"))
  end

  def test_tid_matches_sidekiq_formula
    Thread.new do
      Thread.current["sidekiq_tid"] = nil
      assert_equal (Thread.current.object_id ^ Process.pid).to_s(36), X.tid
    end.join
  end

  def test_epoch_seconds
    assert_equal 1_700_000_000.5, X.epoch_seconds(1_700_000_000_500)
    assert_equal 1_700_000_000.5, X.epoch_seconds(1_700_000_000.5)
    assert_nil X.epoch_seconds(nil)
  end
end
