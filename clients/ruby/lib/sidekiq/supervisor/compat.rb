# frozen_string_literal: true

module Sidekiq
  module Supervisor
    # Differences between Sidekiq 6.x, 7.x and 8.x, each behind respond_to?/defined? checks.
    #
    # * 6.x: `Sidekiq.configure_server { |c| }` yields the Sidekiq module; settings in Sidekiq.options
    #   (6.5: Sidekiq[:key]; Sidekiq.options still works but logs a deprecation on every call).
    # * 7.x/8.x: it yields a Sidekiq::Config (also Sidekiq.default_configuration); settings via config[:key];
    #   middleware may include Sidekiq::ServerMiddleware / Sidekiq::ClientMiddleware to get `config`.
    # * 8.x: created_at/enqueued_at/failed_at/retried_at are integer epoch milliseconds (Events.timestamp
    #   handles both); `retry_for` replaces the count limit instead of adding to it; an :exit lifecycle event.
    module Compat
      DEFAULT_MAX_RETRIES = 25

      module_function

      def sidekiq_major
        defined?(::Sidekiq::VERSION) ? ::Sidekiq::VERSION.to_s.split(".").first.to_i : 0
      end

      # The object configure_server/configure_client would yield.
      def default_config
        if ::Sidekiq.respond_to?(:default_configuration)
          ::Sidekiq.default_configuration
        else
          ::Sidekiq
        end
      end

      # A setting from Sidekiq's own configuration: cfg[:key] on 7+ (and Sidekiq[:key] on 6.5, where
      # Sidekiq.options warns on every call), Sidekiq.options[:key] before 6.5.
      def setting(key, cfg = nil)
        cfg ||= default_config
        if cfg.respond_to?(:[])
          cfg[key]
        elsif ::Sidekiq.respond_to?(:[])
          ::Sidekiq[key]
        elsif ::Sidekiq.respond_to?(:options)
          ::Sidekiq.options[key]
        end
      rescue StandardError
        nil
      end

      # Sidekiq's identity of this process ("hostname:pid:nonce"), the member of its `processes` set,
      # asked of Sidekiq's own code: Sidekiq::Component#identity (6.5+) or Sidekiq::Util#identity
      # (6.0-6.4) memoize it, nonce included, in a class variable of the module, so this is the
      # string Sidekiq's launcher uses (@config is set for versions that keep it in the config).
      def identity(cfg = nil)
        cfg ||= default_config
        if defined?(::Sidekiq::Component) && cfg.respond_to?(:[])
          holder = Object.new.extend(::Sidekiq::Component)
          holder.instance_variable_set(:@config, cfg)
          holder.identity
        else
          require "sidekiq/util" unless defined?(::Sidekiq::Util)
          Object.new.extend(::Sidekiq::Util).identity
        end
      rescue StandardError, LoadError
        nil
      end

      def max_retries(override = nil)
        return override.to_i if override
        v = setting(:max_retries)
        v.is_a?(Integer) ? v : DEFAULT_MAX_RETRIES
      end

      # Sidekiq's thread id for the current thread, computed exactly as Sidekiq does (6.x-8.x).
      def tid
        Thread.current["sidekiq_tid"] ||= (Thread.current.object_id ^ ::Process.pid).to_s(36)
      end

      # tid of another thread, read from the sender thread: the same value, not stored.
      def tid_of(thread)
        thread["sidekiq_tid"] || (thread.object_id ^ ::Process.pid).to_s(36)
      end

      def shutdown_exception?(ex)
        return false unless defined?(::Sidekiq::Shutdown)
        seen = []
        e = ex
        while e
          return true if e.is_a?(::Sidekiq::Shutdown)
          break if seen.include?(e.object_id)
          seen << e.object_id
          e = e.cause
        end
        false
      end

      # Epoch value (float seconds or integer ms) -> Float seconds.
      def epoch_seconds(v)
        case v
        when Integer then v.abs >= Events::MS_THRESHOLD ? v / 1000.0 : v.to_f
        when Float then v.abs >= Events::MS_THRESHOLD ? v / 1000.0 : v
        when String then epoch_seconds(v.include?(".") ? Float(v) : Integer(v, 10))
        end
      rescue ArgumentError, TypeError
        nil
      end

      # Predicts what Sidekiq's JobRetry will do with a job whose perform just raised. Mirrors
      # JobRetry#local/#process_retry of 6.x-8.x: retry option (job hash, else the worker's
      # sidekiq_options), retry_count, max retries, and retry_for (7.1+). It cannot foresee a
      # sidekiq_retry_in block returning :kill or :discard (7.1+), or a retries-exhausted block;
      # the "dead" event from the death handler is authoritative.
      def will_retry?(worker, job, max_retries:, now: Time.now.to_f, major: sidekiq_major)
        retry_opt = job["retry"]
        if retry_opt.nil? && worker && worker.class.respond_to?(:get_sidekiq_options)
          retry_opt = worker.class.get_sidekiq_options["retry"]
        end
        return false unless retry_opt

        count = job["retry_count"].nil? ? 0 : job["retry_count"].to_i + 1
        max = retry_opt.is_a?(Integer) ? retry_opt : max_retries.to_i
        rf = job["retry_for"]
        if rf
          failed_at = epoch_seconds(job["failed_at"]) || now
          within = (failed_at + rf.to_f) >= now
          return within if major >= 8 # 8.x: retry_for and retry are mutually exclusive
          return false if count >= max
          return within
        end
        count < max
      end
    end
  end
end
