# frozen_string_literal: true

# Drives the real sidekiq-cron gem (Debian's ruby-sidekiq-cron 1.8) on a Redis, for the periodic-jobs
# tests: `seed` creates cron jobs the way an app's schedule does, `find` and `all` read them back
# through the gem. Usage: SIDEKIQ_REDIS_URL=... ruby sidekiq_cron.rb COMMAND [JSON-ARGS]; prints JSON.

require_relative "cron_app"
require "sidekiq/cron/job"

# the gem logs each save at INFO: keep stdout for the JSON answer
Sidekiq.logger = Logger.new($stderr, level: Logger::WARN)

cmd = ARGV[0] or abort "usage: sidekiq_cron.rb COMMAND [JSON]"
arg = ARGV[1] ? JSON.parse(ARGV[1]) : {}

def view(job)
  job && {
    "name" => job.name, "cron" => job.cron, "class" => job.klass, "status" => job.status,
    "queue" => Sidekiq.load_json(job.message.is_a?(String) ? job.message : JSON.generate(job.message))["queue"],
    "args" => job.args, "last_enqueue_time" => job.last_enqueue_time&.utc&.iso8601,
    "jid_history" => job.jid_history_from_redis
  }
end

SEED = [
  # the classes are loaded (cron_app.rb): the gem stores their sidekiq_options in `message`
  {"name" => "minute_sweep", "cron" => "* * * * *", "class" => "MinuteSweepJob", "args" => [1, "two"]},
  {"name" => "hourly_report", "cron" => "0 * * * *", "class" => "HourlyReportJob",
   "args" => [{"format" => "pdf"}], "description" => "hourly PDF"},
  {"name" => "paused_cleanup", "cron" => "*/5 * * * *", "class" => "PausedCleanupJob", "status" => "disabled"},
  # six fields (seconds first) and a time zone, as fugit reads them; a class this app does not define
  {"name" => "nightly_paris", "cron" => "0 30 2 * * * Europe/Paris", "class" => "Remote::NightlyJob",
   "queue" => "critical", "date_as_argument" => true}
].freeze

out =
  case cmd
  when "seed"
    errors = Sidekiq::Cron::Job.load_from_array(SEED)
    abort "seed failed: #{errors.inspect}" unless errors.empty?
    SEED.map { |j| j["name"] }
  when "find" then view(Sidekiq::Cron::Job.find(arg.fetch("name")))
  when "all" then Sidekiq::Cron::Job.all.sort_by(&:name).map { |j| view(j) }
  when "enque" then Sidekiq::Cron::Job.find(arg.fetch("name")).enque! && true
  else abort "unknown command #{cmd}"
  end
puts JSON.generate(out)
