# frozen_string_literal: true

require_relative "test_helper"
require "redis_server"
require "open3"

# Runs the e2e harness (a real Sidekiq server process + a producer) against a Ruby sink standing in for
# the service, in sync and async mode, and checks every job's events against the manifest.
# Needs redis-server (or SUPERVISOR_TEST_REDIS_URL) and the sidekiq executable; skipped otherwise.
class E2EHarnessTest < Minitest::Test
  HARNESS = File.expand_path("e2e/run_scenario.rb", __dir__)
  ALLOWED = %w[type job_id occurred_at job_class queue arguments instance enqueued_at created_at scheduled_at
    hostname pid tid retry_count error_class error_message error_backtrace will_retry duration_ms payload
    display_class display_args active_job_id].freeze
  RUN_EVENTS = %w[started succeeded failed interrupted].freeze

  def setup
    skip "SUPERVISOR_SKIP_E2E=1" if ENV["SUPERVISOR_SKIP_E2E"] == "1"
    @redis_url = TestRedis.url or skip("no redis-server")
    skip "no sidekiq executable" unless system("command -v #{ENV.fetch("SIDEKIQ_BIN", "sidekiq")} >/dev/null 2>&1")
    @sink = Sink.new(token: "e2e-token").start
  end

  def teardown
    @sink&.stop
  end

  def run_harness(mode, *flags)
    env = {"SIDEKIQ_SUPERVISOR_URL" => @sink.url, "SIDEKIQ_SUPERVISOR_TOKEN" => "e2e-token", "REDIS_URL" => @redis_url}
    out, err, st = Open3.capture3(env, RbConfig.ruby, HARNESS, "--mode", mode, "--timeout", "60", *flags)
    assert st.success?, "harness failed (#{st.exitstatus}):\n#{err}"
    JSON.parse(out)
  end

  # The Sidekiq server's life (process events are on by default): startup first, quiet and shutdown,
  # every event with Sidekiq's identity of that process and its boot time.
  def check_process_events(process, manifest)
    pid = manifest["sidekiq"]["pid"]
    states = process.map { |e| e["state"] }
    assert_equal "startup", states.first, states.inspect
    assert_includes states, "quiet"
    assert_includes states, "shutdown"
    identities = process.map { |e| e["identity"] }.uniq
    assert_equal 1, identities.size, identities.inspect
    assert_match(/\A[^:]+:#{pid}:[0-9a-f]{12}\z/, identities.first, "Sidekiq's identity: hostname:pid:nonce")
    assert_equal [pid], process.map { |e| e["pid"] }.uniq
    assert_equal 1, process.map { |e| e["started_at_us"] }.uniq.size
    startup = process.first
    assert_equal Sidekiq::VERSION, startup["sidekiq_version"]
    assert_equal Sidekiq::Supervisor::VERSION, startup["client_version"]
    assert_kind_of Integer, startup["concurrency"]
    assert_includes startup["queues"], "default"
  end

  def check(manifest, mode)
    assert manifest["settled"]
    assert manifest["delivery_ok"], "#{manifest["client_stats"]} #{manifest["server_stats"]}"
    assert_equal 0, manifest["sidekiq"]["exit_status"]
    assert_equal mode, manifest["mode"]
    process, events = @sink.events.partition { |e| e["type"] == "process" }
    check_process_events(process, manifest)
    assert_equal 0, @sink.requests.count { |r| r.headers["private-token"] != "e2e-token" }
    # lifecycle events only (the progress job's status calls are direct requests in both modes)
    lifecycle = @sink.requests.reject { |r| r.path.match?(%r{/(progress|data)\z}) }
    assert_operator @sink.requests.size - lifecycle.size, :>=, 4, "the progress job's at/total/store/retrieve"
    if mode == "async"
      assert(lifecycle.all? { |r| r.path == "/api/v1/events" }, "async mode uses the batch route only")
    else
      # process events go to the batch route in both modes
      jobs_only = lifecycle.reject { |r| r.path == "/api/v1/events" && r.json["events"].all? { |e| e["type"] == "process" } }
      assert(jobs_only.all? { |r| r.path.match?(%r{\A/api/v1/jobs/[0-9a-f]{24}/events\z}) })
    end
    events.each { |e| assert_empty e.keys - ALLOWED, "unexpected fields: #{e.keys - ALLOWED}" }

    manifest["jobs"].each do |jid, job|
      mine = events.select { |e| e["job_id"] == jid }.each_with_index.sort_by { |e, i| [e["occurred_at"], i] }.map(&:first)
      assert_equal job["expected_events"], mine.map { |e| e["type"] }, "#{job["scenario"]} (#{jid})"
      job["expected_event_details"].zip(mine).each do |want, got|
        want.each { |k, v| assert_equal v, got[k], "#{job["scenario"]}: #{want["type"]}.#{k}" }
        refute got.key?("retry_count"), "#{job["scenario"]}: #{want["type"]} has no retry_count on the first run" unless want.key?("retry_count")
        if job["marked"] && RUN_EVENTS.include?(want["type"])
          # the queued event gave them
          assert_empty got.keys & %w[job_class queue arguments created_at], "#{job["scenario"]}: #{want["type"]}"
        elsif job["active_job_id"]
          assert_equal [job["class"], job["arguments"], job["active_job_id"]], got.values_at("display_class", "display_args", "active_job_id")
          assert_equal Sidekiq::Supervisor::Events::ACTIVE_JOB_WRAPPERS.first, got["job_class"]
        else
          assert_equal job["class"], got["job_class"]
          assert_equal job["arguments"], got["arguments"], "arguments text is exactly JSON.generate(args)"
          assert_equal "default", got["queue"]
        end
        assert_kind_of Integer, got["pid"]
        assert got["hostname"]
        assert Time.iso8601(got["occurred_at"])
        assert got["tid"], "#{want["type"]} has the Sidekiq tid" if %w[started succeeded failed retrying].include?(want["type"])
      end
      mine.select { |e| e["type"] == "failed" }.each do |f|
        assert f["error_class"]
        assert f["error_message"]
        assert_operator f["error_backtrace"].size, :<=, 20
        assert f["duration_ms"]
      end
      dead = mine.find { |e| e["type"] == "dead" }
      assert dead["error_class"] if dead
      sched = mine.find { |e| e["type"] == "scheduled" }
      assert Time.iso8601(sched["scheduled_at"]) if sched
      queued = mine.find { |e| e["type"] == "queued" }
      assert JSON.parse(queued["payload"])["jid"] == jid if queued && queued["payload"]
    end
    if active_job?
      assert(manifest["jobs"].values.any? { |j| j["active_job_id"] }, "an Active Job scenario")
    end
    twins = manifest["jobs"].select { |_jid, job| job["twin_of"] }
    assert_equal 2, twins.size, "an unmarked twin of a job that succeeds and of one that is retried"
    twins.each do |jid, twin|
      run = events.find { |e| e["job_id"] == jid && e["type"] == "started" }
      assert_equal twin["class"], run["job_class"], "an unmarked job's run sends its identity"
    end
    assert_equal 0, manifest["client_stats"]["dropped"]
    assert_equal 0, manifest["server_stats"]["dropped"]
    total = manifest["jobs"].values.sum { |j| j["expected_events"].size }
    assert_equal total, events.size, "no event missing, none extra"
  end

  # (looked up, not loaded: Active Support would change this process's to_json)
  def active_job?
    Gem::Specification.find_all_by_name("activejob").any?
  end

  def test_sync_mode
    check(run_harness("sync", "--flush-redis"), "sync")
  end

  def test_async_mode
    check(run_harness("async", "--flush-redis", "--fast-retries"), "async")
  end
end
