# frozen_string_literal: true

# Runs every Ruby test: ruby test/run.rb   (from clients/ruby; or give file names to run a subset)
files = ARGV.empty? ? Dir[File.join(__dir__, "**", "*_test.rb")].sort : ARGV.map { |f| File.expand_path(f) }
files.each { |f| require f }
