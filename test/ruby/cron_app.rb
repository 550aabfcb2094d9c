# frozen_string_literal: true

# Job classes and Redis configuration for the periodic-jobs tests against Debian's
# ruby-sidekiq 6.4.1 + ruby-sidekiq-cron 1.8. Loaded by a real Sidekiq server
# (`sidekiq -r ./cron_app.rb -q default -q low`) and by sidekiq_cron.rb. Redis: SIDEKIQ_REDIS_URL.
# The server does not require sidekiq/cron: no cron poller runs, so every job it performs was
# pushed by the test (or by the service under test), never by the gem's own schedule.

require "json"
require "sidekiq"

CRON_REDIS_URL = ENV.fetch("SIDEKIQ_REDIS_URL")

Sidekiq.configure_server { |config| config.redis = {url: CRON_REDIS_URL} }
Sidekiq.configure_client { |config| config.redis = {url: CRON_REDIS_URL} }

# Records each run (jid, args, queue) in `cron_test:performed`, for the test to read.
module RecordsRuns
  def perform(*args)
    Sidekiq.redis do |conn|
      conn.rpush("cron_test:performed", JSON.generate("class" => self.class.name, "jid" => jid, "args" => args))
    end
  end
end

class MinuteSweepJob
  include Sidekiq::Worker
  include RecordsRuns
end

class HourlyReportJob
  include Sidekiq::Worker
  include RecordsRuns
  sidekiq_options queue: "low", retry: 3
end

class PausedCleanupJob
  include Sidekiq::Worker
  include RecordsRuns
end
