# frozen_string_literal: true

# Job classes and Redis configuration for the conformance tests against a real Sidekiq
# (Debian's ruby-sidekiq 6.4.1). Loaded by the Sidekiq server (`sidekiq -r ./conformance_jobs.rb`)
# and by sidekiq_api.rb. Redis: SIDEKIQ_REDIS_URL (loopback test Redis, own DB index).

require "sidekiq"

CONFORMANCE_REDIS_URL = ENV.fetch("SIDEKIQ_REDIS_URL")

Sidekiq.configure_server do |config|
  config.redis = {url: CONFORMANCE_REDIS_URL}
  config.options[:poll_interval_average] = 1 # fast pickup of due retries
end

Sidekiq.configure_client do |config|
  config.redis = {url: CONFORMANCE_REDIS_URL}
end

class OkJob
  include Sidekiq::Job
  sidekiq_options queue: "default", tags: ["conformance", "ok"]

  def perform(*args)
  end
end

# First failure goes to `retry` for an hour.
class FailJob
  include Sidekiq::Job
  sidekiq_options queue: "default", retry: 5, backtrace: 5
  sidekiq_retry_in { |_count, _ex| 3600 }

  def perform(*args)
    raise ArgumentError, "FailJob always fails (args=#{args.inspect})"
  end
end

# Retries once after ~1 s, then dead.
class QuickRetryJob
  include Sidekiq::Job
  sidekiq_options queue: "critical", retry: 1
  sidekiq_retry_in { |_count, _ex| 1 }

  def perform(*args)
    raise "QuickRetryJob fails (args=#{args.inspect})"
  end
end

# retry: 0 -> straight to dead.
class DeadJob
  include Sidekiq::Job
  sidekiq_options queue: "default", retry: 0

  def perform(*args)
    raise "DeadJob goes straight to the morgue"
  end
end

# Runs long enough to be seen in the work hash.
class SlowJob
  include Sidekiq::Job
  sidekiq_options queue: "low"

  def perform(seconds = 120)
    sleep seconds.to_f
  end
end

# Only enqueued to queues the server does not fetch.
class ParkedJob
  include Sidekiq::Job
  sidekiq_options queue: "parked"

  def perform(*args)
  end
end
