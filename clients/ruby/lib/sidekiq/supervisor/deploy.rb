# frozen_string_literal: true

module Sidekiq
  module Supervisor
    # The deploy mark: when a Sidekiq server boots with a known revision of the app, one
    # POST /api/v1/deploys {instance, revision} for that revision and instance. The processes of
    # one deploy boot together; a key in Sidekiq's Redis (SET NX) lets only the first of them send it.
    module Deploy
      PATH = "/api/v1/deploys"
      # the service's name for a client that sets no instance
      DEFAULT_INSTANCE = "default"
      # long enough to outlive any rollout; a later deploy of the same revision (a rollback) is marked again
      KEY_TTL = 7 * 24 * 3600

      module_function

      def key(instance, revision)
        "supervisor:deploy:#{instance}:#{revision}"
      end

      # redis: a callable yielding a connection (Sidekiq.redis). Returns nil (no revision known),
      # :already (another process has sent it), :sent, :no_route (the service answered 404: it has no
      # deploy route) or :failed. Anything but :sent and :already frees the key for the next boot.
      def mark(reporter, redis)
        config = reporter.config
        revision = config.revision
        return nil unless revision
        instance = config.instance_name || DEFAULT_INSTANCE
        k = key(instance, revision)
        # raw SET ... NX EX: the same call on redis-rb (Sidekiq 6) and redis-client (Sidekiq 7/8)
        claimed = redis.call { |c| c.call("SET", k, ::Process.pid.to_s, "NX", "EX", KEY_TTL.to_s) } == "OK"
        return :already unless claimed
        outcome = send_mark(reporter, instance, revision)
        redis.call { |c| c.call("DEL", k) } unless outcome == :sent
        outcome
      rescue StandardError => e
        reporter.log(:warn, "sidekiq-supervisor: deploy mark not sent: #{e.class}: #{e.message}")
        :failed
      end

      def send_mark(reporter, instance, revision)
        res = reporter.transport.post(PATH, Events.encode("instance" => instance, "revision" => revision))
        if res.success?
          reporter.log(:info, "sidekiq-supervisor: deploy of #{revision} marked (instance #{instance})")
          :sent
        elsif res.status == 404
          :no_route
        else
          reporter.log(:warn, "sidekiq-supervisor: deploy mark refused with HTTP #{res.status}")
          :failed
        end
      rescue Transport::Error => e
        reporter.log(:warn, "sidekiq-supervisor: deploy mark not sent: #{e.message}")
        :failed
      end
    end
  end
end
