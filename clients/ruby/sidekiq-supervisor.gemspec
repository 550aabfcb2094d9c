# frozen_string_literal: true

require_relative "lib/sidekiq/supervisor/version"

Gem::Specification.new do |spec|
  spec.name = "sidekiq-supervisor"
  spec.version = Sidekiq::Supervisor::VERSION
  spec.summary = "Reports every Sidekiq job's lifecycle to a Sidekiq Supervisor service"
  spec.description = "Client and server middleware plus a death handler that report queued, scheduled, " \
                     "started, succeeded, failed, retrying, dead and interrupted events over HTTP, " \
                     "synchronously or batched from a background thread. Works with Sidekiq 6.x, 7.x and 8.x."
  spec.authors = ["Sidekiq Supervisor"]
  spec.license = "MIT"
  spec.files = Dir["lib/**/*.rb"] + ["README.md"]
  spec.require_paths = ["lib"]
  spec.required_ruby_version = ">= 2.7"
  # Nothing beyond Sidekiq and Ruby's standard library (net/http, json, socket, time, uri).
  spec.add_dependency "sidekiq", ">= 6.0", "< 9"
end
