# A Sidekiq app for the restart end-to-end test: ReportJob records what it ran with, including the
# raw payload's restarted_from, in the list "restart-probe".
require 'sidekiq'
require 'json'

redis = { url: ENV.fetch('SIDEKIQ_REDIS_URL') }
Sidekiq.configure_client { |c| c.redis = redis }

class ProbeMiddleware
  def call(_worker, job, _queue)
    Thread.current[:restarted_from] = job['restarted_from']
    yield
  end
end

Sidekiq.configure_server do |c|
  c.redis = redis
  c.server_middleware { |chain| chain.add ProbeMiddleware }
end

class ReportJob
  include Sidekiq::Worker
  sidekiq_options queue: 'reports', retry: false

  def perform(*args)
    record = { jid: jid, args: args, restarted_from: Thread.current[:restarted_from] }
    Sidekiq.redis { |r| r.rpush('restart-probe', JSON.generate(record)) }
  end
end
