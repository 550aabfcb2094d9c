# frozen_string_literal: true

# Runs test/ruby/active_job_app.rb in a real Sidekiq, enqueues Active Jobs and mails with
# perform_later / deliver_later from this process (client middleware reporting too), moves retries
# to their queue at once, waits until every job settled, stops Sidekiq, and prints a manifest:
# `MANIFEST {"jobs": {name: {"jid", "active_job_id", "payload" (the job hash as pushed)}},
# "performed": [...], ...}` as the last line of stdout (the libraries may print before it). Exit status 0 when everything settled and Sidekiq stopped cleanly.

require "securerandom"
require "tmpdir"
require "sidekiq/api"
STDOUT.sync = true
APP = File.expand_path("active_job_app.rb", __dir__)
ENV["SIDEKIQ_SUPERVISOR_ENABLED"] = "true"
ENV["SIDEKIQ_SUPERVISOR_MODE"] ||= "sync"
require APP
Sidekiq.logger = Logger.new($stderr)
Sidekiq.logger.level = Logger::WARN

# the job hashes as Sidekiq's client pushes them (what the adapter made of each job)
class PayloadTap
  def self.pushed = (@pushed ||= {})

  def call(_klass, job, _queue, _redis)
    PayloadTap.pushed[job["jid"]] = JSON.generate(job)
    yield
  end
end
Sidekiq.configure_client { |c| c.client_middleware { |chain| chain.add PayloadTap } }

def mono = Process.clock_gettime(Process::CLOCK_MONOTONIC)

state_dir = Dir.mktmpdir("aj-e2e-")
log_file = File.join(state_dir, "sidekiq.log")
Sidekiq.redis(&:flushdb)
pid = Process.spawn({"AJ_E2E_STATE_DIR" => state_dir}, "sidekiq", "-r", APP, "-c", "2",
  "-q", "default", "-q", "mailers", "-t", "5", out: log_file, err: log_file, in: File::NULL)
status = nil
begin
  deadline = mono + 30
  sleep 0.05 until File.exist?(File.join(state_dir, "ready.json")) || mono > deadline
  raise "Sidekiq not ready" unless File.exist?(File.join(state_dir, "ready.json"))

  jobs = {
    "invoice" => InvoiceJob.perform_later(User.new(7), 3.0, 2**64 + 1, note: "first"),
    "flaky" => FlakyImportJob.perform_later("batch-42"),
    "mail" => UserMailer.welcome(User.new(9), greeting: "hello").deliver_later,
    "legacy_mail" => LegacyMailer.receipt(User.new(11)).deliver_later
  }
  expected = {"invoice" => "succeeded", "flaky" => "succeeded", "mail" => "succeeded", "legacy_mail" => "succeeded"}
  settled = false
  deadline = mono + 60
  while mono < deadline
    outcomes = Sidekiq.redis { |c| c.hgetall(OUTCOMES) }
    if jobs.all? { |name, job| outcomes[job.provider_job_id] == expected[name] }
      settled = true
      break
    end
    Sidekiq::RetrySet.new.each(&:add_to_queue)
    sleep 0.1
  end
  raise "not settled: #{Sidekiq.redis { |c| c.hgetall(OUTCOMES) }}" unless settled

  Process.kill("TERM", pid)
  _, status = Process.waitpid2(pid)
  performed = Sidekiq.redis { |c| c.lrange("aj-e2e:performed", 0, -1) }.map { |s| JSON.parse(s) }
  STDOUT.puts "MANIFEST " + JSON.generate(
    "sidekiq" => Sidekiq::VERSION, "rails" => ActiveJob.version.to_s,
    "clean_exit" => status.success?,
    "jobs" => jobs.transform_values do |job|
      {"jid" => job.provider_job_id, "active_job_id" => job.job_id, "payload" => PayloadTap.pushed[job.provider_job_id]}
    end,
    "performed" => performed
  )
rescue StandardError => e
  warn "active_job_run: #{e.class}: #{e.message}"
  warn File.read(log_file).lines.last(40).join if File.exist?(log_file)
  exit 1
ensure
  if status.nil?
    begin
      Process.kill("KILL", pid)
      Process.waitpid(pid)
    rescue StandardError
      nil
    end
  end
end
exit(status&.success? ? 0 : 1)
