# frozen_string_literal: true

require "json"
require "erb"
require "net/http"

module Sidekiq
  module Supervisor
    # Progress and custom data for a running job, as sidekiq-status's Sidekiq::Status::Worker offers
    # them, kept by the Supervisor service (GET /api/v1/jobs/:jid/status shows them):
    #
    #   class ImportJob
    #     include Sidekiq::Job
    #     include Sidekiq::Supervisor::Status
    #
    #     def perform(file)
    #       total 100                 # default 100, as in sidekiq-status
    #       at 5, "Almost done"       # pct_complete 5
    #       store vino: "veritas"     # small key/values; nil removes a key
    #       retrieve :vino            # => "veritas" (a String, or nil)
    #     end
    #   end
    #
    # Each call is one short synchronous request with the configured timeouts. Like every report it
    # never raises into the job: a failure is logged and the call returns false (retrieve: nil).
    module Status
      def total(num)
        supervisor_status_send(Net::HTTP::Post, "progress", {"total" => Integer(num)})
      end

      def at(num, message = nil)
        body = {"at" => Integer(num)}
        body["message"] = message.to_s unless message.nil?
        supervisor_status_send(Net::HTTP::Post, "progress", body)
      end

      def store(hash)
        data = hash.to_h.each_with_object({}) do |(k, v), out|
          out[k.to_s] = v.nil? || v == true || v == false || v.is_a?(Numeric) ? v : v.to_s
        end
        supervisor_status_send(Net::HTTP::Put, "data", {"data" => data})
      end

      def retrieve(key)
        res = supervisor_status_request(Net::HTTP::Get, "data", nil)
        return nil unless res
        value = JSON.parse(res.body.to_s).fetch("data", {})[key.to_s]
        value&.to_s
      rescue StandardError => e
        Supervisor.reporter.log(:warn, "sidekiq-supervisor: could not read data of #{jid}: #{e.class}: #{e.message}")
        nil
      end

      private

      def supervisor_status_send(verb, what, body)
        !supervisor_status_request(verb, what, body).nil?
      end

      # The response when it succeeded; nil (logged) otherwise.
      def supervisor_status_request(verb, what, body)
        reporter = Supervisor.reporter
        return nil unless reporter.active? && jid
        path = "/api/v1/jobs/#{ERB::Util.url_encode(jid)}/#{what}"
        instance = reporter.config.instance_name
        path += "?instance=#{ERB::Util.url_encode(instance)}" if instance
        res = reporter.transport.request(verb, path, body && JSON.generate(body))
        return res if res.success?
        reporter.log(:warn, "sidekiq-supervisor: #{what} of #{jid} refused: HTTP #{res.status} #{res.body.to_s[0, 300]}")
        nil
      rescue StandardError => e
        reporter&.log(:warn, "sidekiq-supervisor: could not send #{what} of #{jid}: #{e.class}: #{e.message}")
        nil
      end
    end
  end
end
