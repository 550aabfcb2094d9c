# A Sidekiq app for the process heartbeat end-to-end test: the supervisor gem from this repository
# (clients/ruby, async mode, process events on by default) and NapJob, which sleeps until stopped
# and says in the list "nap-started" that it runs.
$LOAD_PATH.unshift File.expand_path('../../clients/ruby/lib', __dir__)
require 'sidekiq'
require 'sidekiq/supervisor'

redis = { url: ENV.fetch('SIDEKIQ_REDIS_URL') }
Sidekiq.configure_client { |c| c.redis = redis }
Sidekiq.configure_server { |c| c.redis = redis }

class NapJob
  include Sidekiq::Worker
  sidekiq_options queue: 'naps', retry: false

  def perform(seconds)
    Sidekiq.redis { |r| r.rpush('nap-started', jid) }
    sleep seconds
  end
end

Sidekiq::Supervisor.install!
