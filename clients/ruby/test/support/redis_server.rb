# frozen_string_literal: true

require "socket"
require "tmpdir"
require "fileutils"

# A throwaway redis-server on 127.0.0.1 for the Ruby tests (started and stopped by PID), unless
# SUPERVISOR_TEST_REDIS_URL points at one already. Returns nil when no redis-server binary exists.
module TestRedis
  module_function

  def url
    return ENV["SUPERVISOR_TEST_REDIS_URL"] if ENV["SUPERVISOR_TEST_REDIS_URL"]
    @url ||= start
  end

  def start
    bin = ENV.fetch("REDIS_SERVER_BIN", "redis-server")
    return nil unless system("command -v #{bin} >/dev/null 2>&1")
    port = TCPServer.open("127.0.0.1", 0) { |s| s.addr[1] }
    @dir = Dir.mktmpdir("supervisor-test-redis-")
    @pid = Process.spawn(bin, "--port", port.to_s, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
      "--dir", @dir, out: File.join(@dir, "redis.log"), err: [:child, :out])
    at_exit { stop }
    deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + 5
    loop do
      begin
        TCPSocket.new("127.0.0.1", port).close
        break
      rescue SystemCallError
        raise "redis-server did not start" if Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline
        sleep 0.02
      end
    end
    "redis://127.0.0.1:#{port}/0"
  end

  def stop
    return unless @pid
    Process.kill("TERM", @pid)
    Process.wait(@pid)
  rescue SystemCallError
    nil
  ensure
    @pid = nil
    FileUtils.rm_rf(@dir) if @dir
  end
end
