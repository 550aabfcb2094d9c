# frozen_string_literal: true

require_relative "test_helper"

# Active Job's real class and job_id sent beside the wrapper, computed as the service's own
# unwrapActiveJob does: the expected values are those of src/jobs/active-job.spec.ts, on the same
# job hashes captured from Rails 6.1.7.10 pushing through Sidekiq 6.4.1.
class ActiveJobTest < Minitest::Test
  E = Sidekiq::Supervisor::Events
  FIXTURES = File.expand_path("../../../test/fixtures/active-job/rails-6.1-sidekiq-6.4.1.jsonl", __dir__)
  WRAPPER = "ActiveJob::QueueAdapters::SidekiqAdapter::JobWrapper"

  def fixtures
    File.readlines(FIXTURES).map { |line| JSON.parse(line) }
  end

  def test_a_job_shows_its_class_and_its_arguments_as_sidekiq_7_1_shows_them_numbers_exact
    invoice = fixtures[0]
    assert_equal(
      {"display_class" => "InvoiceJob",
       "display_args" => '["gid://shop/User/7",3.0,18446744073709551617,{"a":1,"b":{"value":"sym"}},{"note":"x"}]',
       "active_job_id" => invoice["args"][0]["job_id"]},
      E.active_job_fields(invoice, WRAPPER)
    )
  end

  def test_a_mail_shows_as_mailer_and_method_with_the_mail_arguments
    _, delivery_job, mail_delivery, with_params = fixtures
    assert_equal ["UserMailer#welcome", '["gid://shop/User/9",{"greeting":"hello"}]'],
      E.active_job_fields(delivery_job, WRAPPER).values_at("display_class", "display_args")
    assert_equal ["UserMailer#welcome", '[null,["gid://shop/User/9",{"greeting":"hello"}]]'],
      E.active_job_fields(mail_delivery, WRAPPER).values_at("display_class", "display_args")
    assert_equal '[{"account":"gid://shop/User/3"},["gid://shop/User/9"]]',
      E.active_job_fields(with_params, WRAPPER)["display_args"]
  end

  def test_at_push_wrapped_is_the_job_s_class_itself
    invoice = fixtures[0].merge("wrapped" => Class.new { def self.to_s = "InvoiceJob" })
    assert_equal "InvoiceJob", E.active_job_fields(invoice, "Sidekiq::ActiveJob::Wrapper")["display_class"]
  end

  def test_plain_jobs_and_wrappers_without_a_serialized_job_get_nothing
    assert_nil E.active_job_fields(job_hash, "HardJob")
    assert_nil E.active_job_fields({"args" => ["InvoiceJob"]}, WRAPPER)
    assert_nil E.active_job_fields({"args" => [{"job_class" => 7}]}, WRAPPER)
    assert_nil E.active_job_fields({"args" => [{"job_class" => "A\0B"}]}, WRAPPER), "the service could not store it"
  end

  def test_the_queued_event_and_an_unmarked_run_carry_them_beside_the_wrapper_and_a_marked_run_does_not
    invoice = fixtures[0]
    ctx = {hostname: "h", pid: 1, send_arguments: true}
    queued = E.enqueued(invoice, "default", ctx)
    assert_equal [WRAPPER, "InvoiceJob", invoice["args"][0]["job_id"]], queued.values_at("job_class", "display_class", "active_job_id")
    assert_equal JSON.generate(invoice["args"]), queued["arguments"], "the wrapper's arguments stay as Sidekiq wrote them"
    run = JSON.parse("{\"type\":\"started\"#{E.run_fragment(invoice, "default", ctx)}}")
    assert_equal queued.slice("job_class", "arguments", "display_class", "display_args", "active_job_id"),
      run.slice("job_class", "arguments", "display_class", "display_args", "active_job_id")
    marked = JSON.parse("{\"type\":\"started\"#{E.run_fragment(invoice, "default", ctx, nil, nil, true)}}")
    assert_empty marked.keys & %w[job_class arguments display_class display_args active_job_id]
    hidden = E.enqueued(invoice, "default", ctx.merge(send_arguments: false))
    assert_empty hidden.keys & %w[arguments display_args display_class], "no arguments sent, none shown"
  end
end
