# frozen_string_literal: true

module Sidekiq
  module Supervisor
    VERSION = "0.1.0"
  end
end
