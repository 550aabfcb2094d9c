# frozen_string_literal: true

require "uri"
require "socket"

module Sidekiq
  module Supervisor
    # Settings, read from the environment first and then from `Sidekiq::Supervisor.configure { |c| ... }`.
    #
    #   SIDEKIQ_SUPERVISOR_URL           base URL of the service (http://host:port, optional path prefix)
    #   SIDEKIQ_SUPERVISOR_TOKEN         sent as the PRIVATE-TOKEN header (scope ingest or admin)
    #   SIDEKIQ_SUPERVISOR_ENABLED       true/false (default: true when a URL is set)
    #   SIDEKIQ_SUPERVISOR_MODE          sync (default) | async
    #   SIDEKIQ_SUPERVISOR_INSTANCE      name of this Sidekiq installation (default: "default")
    #   SIDEKIQ_SUPERVISOR_OPEN_TIMEOUT  seconds (default 0.5)
    #   SIDEKIQ_SUPERVISOR_READ_TIMEOUT  seconds (default 1.0) for one event (sync mode)
    #   SIDEKIQ_SUPERVISOR_WRITE_TIMEOUT seconds (default 1.0)
    #   SIDEKIQ_SUPERVISOR_BATCH_READ_TIMEOUT seconds (default 5.0) for one batch (async mode)
    #   SIDEKIQ_SUPERVISOR_BUFFER_SIZE   async buffer bound, events (default 10000)
    #   SIDEKIQ_SUPERVISOR_BATCH_SIZE    events per batch request, 1..1000 (default 500)
    #   SIDEKIQ_SUPERVISOR_FLUSH_INTERVAL seconds between batches when the buffer is not full (default 1.0)
    #   SIDEKIQ_SUPERVISOR_SHUTDOWN_TIMEOUT seconds to flush the async buffer at exit (default 5.0)
    #   SIDEKIQ_SUPERVISOR_STARTED_DELAY  async: a job still running after this many seconds has its started
    #                                    event sent on its own (default 1.0; shorter runs send one event)
    #   SIDEKIQ_SUPERVISOR_PROCESS_EVENTS true/false: report the Sidekiq server's startup/quiet/shutdown
    #                                    and a heartbeat (default true; the service then tells a job on a
    #                                    process that stopped or went silent lost at once)
    #   SIDEKIQ_SUPERVISOR_HEARTBEAT_INTERVAL seconds between heartbeats of a Sidekiq server (default 10,
    #                                    Sidekiq's own beat; 0: none). Async mode: sent by the sender
    #                                    thread with its next batch; sync mode: one small timer thread
    #   SIDEKIQ_SUPERVISOR_SEND_PAYLOAD  true/false: send the raw job JSON on queued/scheduled (default true)
    #   SIDEKIQ_SUPERVISOR_HOST          accepted as a fallback for SIDEKIQ_SUPERVISOR_URL (the seed's name)
    #   SIDEKIQ_SUPERVISOR_REVISION      the app's revision, for the deploy mark (else see REVISION_ENV)
    class Configuration
      # Where the app's revision is found, first set wins: ours, then Heroku's (HEROKU_SLUG_COMMIT
      # from the dyno metadata feature at run time, SOURCE_VERSION in builds and some buildpacks).
      # Kubernetes has no such variable: map the pod's app.kubernetes.io/version label (or the image
      # tag) to SIDEKIQ_SUPERVISOR_REVISION through the Downward API.
      REVISION_ENV = %w[SIDEKIQ_SUPERVISOR_REVISION HEROKU_SLUG_COMMIT SOURCE_VERSION].freeze
      BOOLEAN_TRUE = %w[1 true yes on y t].freeze
      BOOLEAN_FALSE = %w[0 false no off n f].freeze
      MODES = %i[sync async].freeze
      MAX_BATCH = 1000

      attr_accessor :url, :token, :instance, :open_timeout, :read_timeout, :write_timeout,
        :batch_read_timeout, :keep_alive_timeout, :buffer_size, :batch_size, :flush_interval,
        :shutdown_timeout, :process_events, :send_payload, :send_arguments, :backtrace_lines,
        :pool_size, :failure_threshold, :failure_cooldown, :max_backoff, :log_interval,
        :hostname, :logger, :skip_in_testing, :max_retries, :started_delay, :revision, :heartbeat_interval
      attr_writer :enabled
      attr_reader :mode

      def initialize(env = ENV)
        @url = presence(env["SIDEKIQ_SUPERVISOR_URL"]) || presence(env["SIDEKIQ_SUPERVISOR_HOST"])
        @base_uri_for = nil # the @url that @base_uri was parsed from
        @base_uri = nil
        @token = presence(env["SIDEKIQ_SUPERVISOR_TOKEN"])
        @enabled = boolean(env["SIDEKIQ_SUPERVISOR_ENABLED"], nil)
        self.mode = presence(env["SIDEKIQ_SUPERVISOR_MODE"]) || :sync
        @instance = presence(env["SIDEKIQ_SUPERVISOR_INSTANCE"])
        @open_timeout = float(env["SIDEKIQ_SUPERVISOR_OPEN_TIMEOUT"], 0.5)
        @read_timeout = float(env["SIDEKIQ_SUPERVISOR_READ_TIMEOUT"], 1.0)
        @write_timeout = float(env["SIDEKIQ_SUPERVISOR_WRITE_TIMEOUT"], 1.0)
        @batch_read_timeout = float(env["SIDEKIQ_SUPERVISOR_BATCH_READ_TIMEOUT"], 5.0)
        @keep_alive_timeout = 4.0 # below Node's default server keepAliveTimeout of 5 s
        @buffer_size = integer(env["SIDEKIQ_SUPERVISOR_BUFFER_SIZE"], 10_000)
        @batch_size = integer(env["SIDEKIQ_SUPERVISOR_BATCH_SIZE"], 500)
        @flush_interval = float(env["SIDEKIQ_SUPERVISOR_FLUSH_INTERVAL"], 1.0)
        @shutdown_timeout = float(env["SIDEKIQ_SUPERVISOR_SHUTDOWN_TIMEOUT"], 5.0)
        @started_delay = float(env["SIDEKIQ_SUPERVISOR_STARTED_DELAY"], 1.0)
        @process_events = boolean(env["SIDEKIQ_SUPERVISOR_PROCESS_EVENTS"], true)
        @heartbeat_interval = float(env["SIDEKIQ_SUPERVISOR_HEARTBEAT_INTERVAL"], 10.0)
        @send_payload = boolean(env["SIDEKIQ_SUPERVISOR_SEND_PAYLOAD"], true)
        @revision = REVISION_ENV.lazy.map { |k| presence(env[k]) }.find(&:itself)
        @send_arguments = true
        @backtrace_lines = 20
        @pool_size = 10           # idle keep-alive connections kept (sync mode uses one per busy thread)
        @failure_threshold = 3    # sync mode: consecutive failures that open the circuit ...
        @failure_cooldown = 5.0   # ... for this many seconds (events are dropped and counted meanwhile)
        @max_backoff = 30.0       # async mode: longest pause between retries of a failed batch
        @log_interval = 30.0      # at most one delivery warning per this many seconds
        @hostname = nil
        @logger = nil
        @skip_in_testing = true   # no reports while Sidekiq::Testing is fake/inline
        @max_retries = nil        # Sidekiq's :max_retries when not read from Sidekiq's own config
      end

      def mode=(value)
        sym = value.to_s.strip.downcase.to_sym
        raise ArgumentError, "mode must be one of #{MODES.join(", ")} (got #{value.inspect})" unless MODES.include?(sym)
        @mode = sym
      end

      def async?
        @mode == :async
      end

      # Enabled when switched on (or not switched at all) and a URL is known.
      def enabled?
        return false if @enabled == false
        !base_uri.nil?
      end

      def explicitly_enabled?
        @enabled == true
      end

      def instance_name
        @instance
      end

      def hostname_value
        @hostname ||= Socket.gethostname
      rescue StandardError
        @hostname = "unknown"
      end

      # The base URL without a trailing slash or a trailing /api/v1.
      def base_uri
        return nil if @url.nil?
        # (no defined?: it allocates a String, and this runs for every job via enabled?)
        return @base_uri if @base_uri_for == @url
        return nil if @url.to_s.strip.empty?
        uri = URI.parse(@url.to_s.strip)
        uri = URI.parse("http://#{@url.to_s.strip}") unless uri.is_a?(URI::HTTP) && uri.host
        path = uri.path.to_s.sub(%r{/+\z}, "").sub(%r{/api/v1\z}, "")
        uri.path = path
        uri.query = nil
        uri.fragment = nil
        @base_uri_for = @url
        @base_uri = uri
      rescue URI::InvalidURIError
        @base_uri_for = @url
        @base_uri = nil
      end

      def base_path
        base_uri&.path.to_s
      end

      def effective_batch_size
        [[@batch_size.to_i, 1].max, MAX_BATCH].min
      end

      # Problems that make the configuration unusable (names only, never values).
      def validate
        problems = []
        problems << "SIDEKIQ_SUPERVISOR_URL is not a valid http(s) URL" if @url && base_uri.nil?
        problems << "SIDEKIQ_SUPERVISOR_TOKEN is missing" if enabled? && (@token.nil? || @token.to_s.empty?)
        problems << "buffer_size must be > 0" unless @buffer_size.to_i.positive?
        if @instance && !@instance.to_s.match?(/\A[A-Za-z0-9_-]{1,64}\z/)
          problems << "SIDEKIQ_SUPERVISOR_INSTANCE must be 1 to 64 characters of A-Z a-z 0-9 _ - (the service refuses others)"
        end
        problems
      end

      def to_h
        {
          url: base_uri&.to_s, token: @token ? "[set]" : nil, enabled: enabled?, mode: @mode, instance: @instance,
          open_timeout: @open_timeout, read_timeout: @read_timeout, write_timeout: @write_timeout,
          batch_read_timeout: @batch_read_timeout, buffer_size: @buffer_size, batch_size: effective_batch_size,
          flush_interval: @flush_interval, shutdown_timeout: @shutdown_timeout, process_events: @process_events,
          heartbeat_interval: @heartbeat_interval,
          send_payload: @send_payload, revision: @revision
        }
      end

      private

      def presence(value)
        value.nil? || value.to_s.strip.empty? ? nil : value.to_s.strip
      end

      def boolean(value, default)
        v = presence(value)&.downcase
        return default if v.nil?
        return true if BOOLEAN_TRUE.include?(v)
        return false if BOOLEAN_FALSE.include?(v)
        default
      end

      def float(value, default)
        v = presence(value)
        v ? Float(v) : default
      rescue ArgumentError
        default
      end

      def integer(value, default)
        v = presence(value)
        v ? Integer(v, 10) : default
      rescue ArgumentError
        default
      end
    end
  end
end
