# frozen_string_literal: true

require "socket"
require "json"
require "time"

# A tiny real HTTP/1.1 server on 127.0.0.1 that stands in for the Supervisor's ingestion API in tests
# and benchmarks. Keep-alive aware; records every request (method, path, headers, parsed body, which
# connection it came on). Behaviour is switchable at run time:
#
#   sink.mode = :ok        201 {job_id,type,duplicate} on /jobs routes, 200 {accepted,duplicates} on /events
#   sink.mode = :hang      read the request, never answer (the client's read timeout must fire)
#   sink.mode = :close     read the request, close the socket without answering
#   sink.status = 503      answer every request with that status
#   sink.handler = ->(req) { [status, body_hash] }   custom answer
#
# Usable standalone (bench, manual runs): ruby test/support/sink.rb [port] [--token T] [--quiet]
#   prints "LISTENING <port>" and a line per request count every second unless --quiet.
class Sink
  Request = Struct.new(:method, :path, :headers, :body, :json, :conn_id, :at, keyword_init: true)

  attr_reader :port, :requests, :connections
  attr_accessor :mode, :status, :handler, :token, :record, :delay

  def initialize(port: 0, token: nil, record: true)
    @server = TCPServer.new("127.0.0.1", port)
    @port = @server.addr[1]
    @token = token
    @record = record
    @mode = :ok
    @status = nil
    @handler = nil
    @delay = nil
    @requests = []
    @events_count = 0
    @connections = 0
    @mutex = Mutex.new
    @threads = []
    @stopped = false
  end

  def url
    "http://127.0.0.1:#{@port}"
  end

  def start
    @acceptor = Thread.new do
      loop do
        sock = @server.accept
        conn_id = @mutex.synchronize { @connections += 1 }
        t = Thread.new(sock, conn_id) { |s, id| serve(s, id) }
        @mutex.synchronize { @threads << t }
      rescue IOError, Errno::EBADF
        break
      end
    end
    @acceptor.report_on_exception = false
    self
  end

  def stop
    @stopped = true
    @server.close rescue nil
    @acceptor&.kill
    @mutex.synchronize { @threads.each(&:kill) }
  end

  # All events received: per-event route bodies, and each element of batch bodies.
  def events
    @mutex.synchronize do
      @requests.flat_map do |r|
        next [] unless r.json.is_a?(Hash)
        if r.path.end_with?("/api/v1/events")
          Sink.batch_events(r.json)
        elsif (m = r.path.match(%r{/api/v1/jobs/([^/]+)/events\z}))
          [r.json.merge("job_id" => r.json["job_id"] || m[1])]
        else
          []
        end
      end
    end
  end

  def events_count
    @mutex.synchronize { @events_count }
  end

  def clear
    @mutex.synchronize do
      @requests.clear
      @events_count = 0
    end
  end

  def request_count
    @mutex.synchronize { @requests.size }
  end

  def wait_for(timeout = 5)
    deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + timeout
    until yield
      return false if Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline
      sleep 0.01
    end
    true
  end

  # The events of a batch body: its event objects, then its rows (the compact form: columns, rows,
  # defaults) as the objects the service reads them as (*_us times as ISO 8601, duration_us as ms).
  def self.batch_events(body)
    events = Array(body["events"])
    cols = body["columns"]
    return events unless cols.is_a?(Array) && body["rows"].is_a?(Array)
    defaults = body["defaults"].is_a?(Hash) ? body["defaults"] : {}
    events + body["rows"].map do |row|
      ev = defaults.dup
      cols.each_with_index { |c, i| ev[c] = row[i] unless row[i].nil? }
      %w[occurred_at enqueued_at created_at scheduled_at].each do |k|
        us = ev.delete("#{k}_us")
        ev[k] = Time.at(us / 1_000_000, us % 1_000_000, :usec).utc.iso8601(6) if us
      end
      d = ev.delete("duration_us")
      ev["duration_ms"] = d / 1000.0 if d
      ev
    end.flat_map do |ev|
      # as the service does: an event that ends a run with started_at_us also records the started event
      started_us = ev.delete("started_at_us")
      next [ev] unless started_us
      started = ev.reject { |k, _| %w[duration_ms error_class error_message error_backtrace will_retry].include?(k) }
      started["type"] = "started"
      started["occurred_at"] = Time.at(started_us / 1_000_000, started_us % 1_000_000, :usec).utc.iso8601(6)
      [started, ev]
    end
  end

  private

  def serve(sock, conn_id)
    loop do
      req = read_request(sock, conn_id)
      break unless req
      n = req.json.is_a?(Hash) && req.path.end_with?("/api/v1/events") ? Sink.batch_events(req.json).size : 1
      n = 0 if req.json.nil? && !@record
      @mutex.synchronize do
        @requests << req if @record
        @events_count += n
      end
      case @mode
      when :hang
        sleep 3600
      when :close
        break
      end
      sleep @delay if @delay
      status, body = answer(req)
      payload = JSON.generate(body)
      sock.write("HTTP/1.1 #{status} X\r\nContent-Type: application/json\r\nContent-Length: #{payload.bytesize}\r\n" \
                 "Connection: keep-alive\r\n\r\n#{payload}")
    end
  rescue IOError, SystemCallError
    nil
  ensure
    sock.close rescue nil
  end

  def answer(req)
    return @handler.call(req) if @handler
    return [@status, {"error" => "status #{@status}"}] if @status
    return [401, {"message" => "401 Unauthorized"}] if @token && req.headers["private-token"] != @token
    return [200, {"discarded" => true}] if req.json.nil? && !@record
    if req.path.end_with?("/api/v1/events")
      events = req.json.is_a?(Hash) ? req.json["events"] : nil
      return [400, {"message" => ["events must be an array"]}] unless events.is_a?(Array) || req.json.is_a?(Hash) && req.json["rows"]
      n = Sink.batch_events(req.json).size
      return [413, {"message" => "too many events"}] if n > 1000
      [200, {"accepted" => n, "duplicates" => 0}]
    else
      [201, {"job_id" => req.path.split("/")[4], "type" => req.json.is_a?(Hash) ? req.json["type"] : nil, "duplicate" => false}]
    end
  end

  def read_request(sock, conn_id)
    line = sock.gets("\r\n")
    return nil if line.nil?
    method, path, = line.split(" ", 3)
    headers = {}
    while (h = sock.gets("\r\n"))
      h = h.chomp("\r\n")
      break if h.empty?
      k, v = h.split(":", 2)
      headers[k.strip.downcase] = v.to_s.strip
    end
    len = headers["content-length"].to_i
    body = len.positive? ? sock.read(len) : ""
    json = begin
      # a sink that keeps nothing (the benchmark's discard sink) does not parse either: its CPU would
      # be taken from the Sidekiq it measures on a small machine
      body.empty? || (!@record && @handler.nil?) ? nil : JSON.parse(body)
    rescue JSON::ParserError
      nil
    end
    Request.new(method: method, path: path, headers: headers, body: body, json: json, conn_id: conn_id,
      at: Process.clock_gettime(Process::CLOCK_MONOTONIC))
  end
end

if $PROGRAM_NAME == __FILE__
  port = (ARGV.find { |a| a.match?(/\A\d+\z/) } || 0).to_i
  token = ARGV.include?("--token") ? ARGV[ARGV.index("--token") + 1] : nil
  quiet = ARGV.include?("--quiet")
  sink = Sink.new(port: port, token: token, record: !ARGV.include?("--no-record")).start
  $stdout.sync = true
  puts "LISTENING #{sink.port}"
  trap("TERM") { exit 0 }
  trap("INT") { exit 0 }
  loop do
    sleep 1
    warn "[sink] #{sink.events_count} events" unless quiet
  end
end
