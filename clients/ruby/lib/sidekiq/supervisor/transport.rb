# frozen_string_literal: true

require "net/http"
require "openssl"
require "uri"
require "zlib"

module Sidekiq
  module Supervisor
    # HTTP POSTs of JSON bodies over a small pool of persistent (keep-alive) Net::HTTP connections.
    # Thread-safe: a connection is checked out by one thread at a time; idle ones are kept up to
    # pool_size. Short open/read/write timeouts. Never retries except once, on a fresh connection, when
    # a reused keep-alive connection turns out to have been closed by the server (events are idempotent).
    class Transport
      Response = Struct.new(:status, :body) do
        def success?
          status >= 200 && status < 300
        end
      end

      class Error < StandardError; end

      # Errors that mean "a kept-alive connection went stale": safe to retry once on a new connection.
      STALE_ERRORS = [EOFError, Errno::ECONNRESET, Errno::EPIPE, Errno::ECONNABORTED, IOError].freeze
      NETWORK_ERRORS = [
        SocketError, SystemCallError, IOError, EOFError, Timeout::Error, Net::OpenTimeout, Net::ReadTimeout,
        Net::HTTPBadResponse, Net::ProtocolError, OpenSSL::SSL::SSLError, Zlib::Error
      ].tap { |a| a << Net::WriteTimeout if defined?(Net::WriteTimeout) }.freeze

      attr_reader :config

      def initialize(config)
        @config = config
        @mutex = Mutex.new
        @idle = []
        @pid = ::Process.pid
        @user_agent = "sidekiq-supervisor-ruby/#{VERSION} (Ruby #{RUBY_VERSION}; Sidekiq #{sidekiq_version})"
      end

      # POST body (a JSON string) to base path + path. Returns a Response; raises Transport::Error
      # (wrapping the cause) on network errors and timeouts.
      def post(path, body, read_timeout: nil)
        request(Net::HTTP::Post, path, body, read_timeout: read_timeout)
      end

      # GET / PUT / POST (a Net::HTTPRequest class) with an optional JSON body; as post.
      def request(verb, path, body = nil, read_timeout: nil)
        uri = config.base_uri or raise Error, "no supervisor URL configured"
        full_path = "#{config.base_path}#{path}"
        attempts = 0
        begin
          attempts += 1
          http, reused = checkout(uri)
          http.read_timeout = read_timeout || config.read_timeout
          req = verb.new(full_path, headers)
          req.body = body if body
          res = http.request(req)
          checkin(http, keep: keep_alive?(res))
          Response.new(res.code.to_i, res.body)
        rescue *STALE_ERRORS => e
          discard(http)
          retry if reused && attempts < 2 && !timeout?(e)
          raise Error, "#{e.class}: #{e.message}"
        rescue *NETWORK_ERRORS => e
          discard(http)
          raise Error, "#{e.class}: #{e.message}"
        rescue StandardError => e
          discard(http)
          raise Error, "#{e.class}: #{e.message}"
        end
      end

      # Close every idle connection (shutdown, or after fork).
      def close
        conns = @mutex.synchronize { @idle.slice!(0..) }
        conns.each { |h| finish_quietly(h) }
      end

      def idle_count
        @mutex.synchronize { @idle.size }
      end

      private

      def headers
        h = {"Content-Type" => "application/json", "Accept" => "application/json", "User-Agent" => @user_agent}
        h["PRIVATE-TOKEN"] = config.token.to_s if config.token
        h
      end

      def checkout(uri)
        http = @mutex.synchronize do
          after_fork_reset
          @idle.pop
        end
        return [http, true] if http&.started?
        [connect(uri), false]
      end

      def checkin(http, keep:)
        return unless http
        unless keep
          finish_quietly(http)
          return
        end
        extra = @mutex.synchronize do
          if @pid == ::Process.pid && @idle.size < config.pool_size.to_i
            @idle.push(http)
            nil
          else
            http
          end
        end
        finish_quietly(extra) if extra
      end

      def discard(http)
        finish_quietly(http) if http
      end

      def connect(uri)
        http = Net::HTTP.new(uri.host, uri.port)
        http.use_ssl = uri.scheme == "https"
        http.open_timeout = config.open_timeout
        http.read_timeout = config.read_timeout
        http.write_timeout = config.write_timeout if http.respond_to?(:write_timeout=)
        http.keep_alive_timeout = config.keep_alive_timeout
        http.max_retries = 0 if http.respond_to?(:max_retries=)
        http.start
        http
      end

      def keep_alive?(res)
        res["connection"].to_s.downcase != "close"
      end

      def timeout?(e)
        e.is_a?(Timeout::Error) || (defined?(Net::WriteTimeout) && e.is_a?(Net::WriteTimeout))
      end

      def finish_quietly(http)
        http.finish if http.started?
      rescue StandardError
        nil
      end

      # A forked child must not share the parent's sockets: forget them (without closing, which
      # would not send anything while the parent still holds the descriptor, but is pointless).
      def after_fork_reset
        return if @pid == ::Process.pid
        @idle = []
        @pid = ::Process.pid
      end

      def sidekiq_version
        defined?(::Sidekiq::VERSION) ? ::Sidekiq::VERSION : "?"
      end
    end
  end
end
