# frozen_string_literal: true

# A Rails-style Sidekiq app for the Active Job end-to-end test (test/e2e/active-job.e2e-spec.ts):
# Debian's Active Job and Action Mailer 6.1 with the :sidekiq adapter and the supervisor's Ruby client
# installed. Loaded by Sidekiq (`sidekiq -r`) and by active_job_run.rb (the producer).
# Environment: REDIS_URL, SIDEKIQ_SUPERVISOR_URL, SIDEKIQ_SUPERVISOR_TOKEN, SIDEKIQ_SUPERVISOR_INSTANCE,
# AJ_E2E_STATE_DIR (where the server writes ready.json).

$LOAD_PATH.unshift File.expand_path("../../clients/ruby/lib", __dir__)
require "json"
require "fileutils"
require "sidekiq"
require "active_job"
require "action_mailer"

Redis.silence_deprecations = true if defined?(Redis) && Redis.respond_to?(:silence_deprecations=)
REDIS_CONFIG = {url: ENV.fetch("REDIS_URL")}.freeze
OUTCOMES = "aj-e2e:outcomes" # hash jid -> succeeded | failed:<retry_count or first>

ActiveJob::Base.queue_adapter = :sidekiq
ActiveJob::Base.logger = Logger.new(nil)
ActionMailer::Base.delivery_method = :test
ActionMailer::Base.logger = Logger.new(nil)
GlobalID.app = "shop"

# A model as GlobalID locates it (GlobalID::Locator calls User.find).
class User
  include GlobalID::Identification
  attr_reader :id

  def initialize(id)
    @id = id
  end

  def self.find(id)
    new(Integer(id))
  end
end

class InvoiceJob < ActiveJob::Base
  queue_as :default

  def perform(user, amount, big, note:)
    Sidekiq.redis { |c| c.rpush("aj-e2e:performed", JSON.generate([user.id, amount, big.to_s, note])) }
  end
end

# Fails on its first run (Sidekiq retries it: Active Job leaves retries to the adapter here).
class FlakyImportJob < ActiveJob::Base
  queue_as :default

  def perform(batch)
    n = Sidekiq.redis { |c| c.incr("aj-e2e:attempts:#{job_id}") }
    raise IOError, "import #{batch} failed once" if n == 1
  end
end

class UserMailer < ActionMailer::Base
  default from: "shop@example.com"
  self.delivery_job = ActionMailer::MailDeliveryJob # Rails 6.0+ defaults

  def welcome(user, greeting:)
    mail(to: "user#{user.id}@example.com", subject: greeting) { |f| f.text { render plain: greeting } }
  end
end

# Rails 6.1's own default delivery job (apps without `load_defaults 6.0`).
class LegacyMailer < ActionMailer::Base
  default from: "shop@example.com"
  self.delivery_job = ActionMailer::DeliveryJob

  def receipt(user)
    mail(to: "user#{user.id}@example.com", subject: "receipt") { |f| f.text { render plain: "thanks" } }
  end
end

# Innermost server middleware: the outcome of each run, after the supervisor's events for it.
class OutcomeRecorder
  def call(_worker, job, _queue)
    yield
    Sidekiq.redis { |c| c.hset(OUTCOMES, job["jid"], "succeeded") }
  rescue Exception # rubocop:disable Lint/RescueException
    Sidekiq.redis { |c| c.hset(OUTCOMES, job["jid"], "failed:#{job["retry_count"] || "first"}") }
    raise
  end
end

require "sidekiq/supervisor"

Sidekiq.configure_client { |c| c.redis = REDIS_CONFIG }
Sidekiq.configure_server do |c|
  c.redis = REDIS_CONFIG
  c.options[:poll_interval_average] = 1
  c.average_scheduled_poll_interval = 1
end

Sidekiq::Supervisor.install!

Sidekiq.configure_server do |c|
  c.server_middleware { |chain| chain.add OutcomeRecorder }
  c.on(:startup) do
    dir = ENV.fetch("AJ_E2E_STATE_DIR")
    FileUtils.mkdir_p(dir)
    File.write(File.join(dir, "ready.json"), JSON.generate("pid" => Process.pid))
  end
end
