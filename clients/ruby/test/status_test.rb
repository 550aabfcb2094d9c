# frozen_string_literal: true

require_relative "test_helper"

# Sidekiq::Supervisor::Status (sidekiq-status's at / total / store / retrieve) against a real HTTP
# server on 127.0.0.1 standing in for the service.
class StatusTest < Minitest::Test
  class ProgressJob
    include Sidekiq::Worker
    include Sidekiq::Supervisor::Status
  end

  def setup
    @sink = Sink.new(token: "test-token").start
    @job = ProgressJob.new
    @job.jid = "0123456789abcdef01234567"
  end

  def teardown
    Sidekiq::Supervisor.reset!({})
    @sink.stop
  end

  def test_at_and_total_report_progress_to_the_job
    configure_supervisor(url: @sink.url)
    assert @job.total(40)
    assert @job.at(5, "Almost done")
    assert @job.at(6)
    first, second, third = @sink.requests
    assert_equal ["POST", "/api/v1/jobs/0123456789abcdef01234567/progress"], [first.method, first.path]
    assert_equal "test-token", first.headers["private-token"]
    assert_equal({"total" => 40}, first.json)
    assert_equal({"at" => 5, "message" => "Almost done"}, second.json)
    assert_equal({"at" => 6}, third.json)
  end

  def test_store_sends_scalars_and_nil_and_retrieve_reads_strings_back
    configure_supervisor(url: @sink.url, instance: "eu")
    @sink.handler = lambda do |req|
      req.method == "GET" ? [200, {"data" => {"vino" => "veritas", "n" => 3}}] : [200, {"data" => {}}]
    end
    assert @job.store(vino: "veritas", n: 3, done: true, gone: nil, sym: :x)
    put = @sink.requests.last
    assert_equal ["PUT", "/api/v1/jobs/0123456789abcdef01234567/data?instance=eu"], [put.method, put.path]
    assert_equal({"data" => {"vino" => "veritas", "n" => 3, "done" => true, "gone" => nil, "sym" => "x"}}, put.json)
    assert_equal "veritas", @job.retrieve(:vino)
    assert_equal "3", @job.retrieve("n")
    assert_nil @job.retrieve(:missing)
    assert_equal "GET", @sink.requests.last.method
  end

  def test_a_refusal_or_an_outage_is_logged_never_raised
    configure_supervisor(url: @sink.url)
    @sink.status = 400
    refute @job.at(1)
    assert_match(/progress of 0123456789abcdef01234567 refused: HTTP 400/, log_text)
    configure_supervisor(url: "http://127.0.0.1:1", open_timeout: 0.2)
    refute @job.store(a: 1)
    assert_nil @job.retrieve(:a)
    assert_match(/could not send data/, log_text)
  end

  def test_nothing_is_sent_when_reporting_is_off
    configure_supervisor(url: @sink.url, enabled: false)
    refute @job.at(1)
    assert_empty @sink.requests
  end
end
