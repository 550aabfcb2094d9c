import { readFileSync } from 'node:fs';
import { unwrapActiveJob } from './active-job.js';
import { MAX_NAME_BYTES, parseEvent } from './ingest/event-parser.js';
import { JobEventType } from './job-lifecycle.enum.js';

// Job hashes captured from Debian's Rails 6.1.7.10 (ruby-activejob, ruby-actionmailer) pushing
// through Sidekiq 6.4.1 (see test/fixtures/active-job/README.md).
const [invoice, deliveryJob, mailDelivery, withParams] = readFileSync(
  new URL('../../test/fixtures/active-job/rails-6.1-sidekiq-6.4.1.jsonl', import.meta.url),
  'utf8',
)
  .trim()
  .split('\n');

const WRAPPER = 'ActiveJob::QueueAdapters::SidekiqAdapter::JobWrapper';

/** The wrapper's args exactly as they stand in the payload text (what the Ruby client sends). */
function argsText(payload: string): string {
  const start = payload.indexOf('"args":') + '"args":'.length;
  const end = payload.indexOf(',"jid":');
  return payload.slice(start, end);
}

function activeJobId(payload: string): string {
  return (JSON.parse(payload) as { args: { job_id: string }[] }).args[0].job_id;
}

describe('unwrapActiveJob', () => {
  it('shows an Active Job as its class with its arguments as Sidekiq 7.1+ shows them, numbers exact', () => {
    const raw = argsText(invoice);
    const sut = unwrapActiveJob(WRAPPER, raw, null, MAX_NAME_BYTES);
    expect(sut).toEqual({
      jobClass: 'InvoiceJob',
      // GlobalID as its gid, _aj_* keys dropped (the serialized Symbol keeps its value), 3.0 and
      // 2**64 + 1 as Ruby wrote them
      arguments:
        '["gid://shop/User/7",3.0,18446744073709551617,{"a":1,"b":{"value":"sym"}},{"note":"x"}]',
      wrapperClass: WRAPPER,
      rawArguments: raw,
      activeJobId: activeJobId(invoice),
    });
  });

  it('shows a mail delivery as Mailer#method with the mail arguments (DeliveryJob and MailDeliveryJob)', () => {
    expect(unwrapActiveJob(WRAPPER, argsText(deliveryJob), null, MAX_NAME_BYTES)).toMatchObject({
      jobClass: 'UserMailer#welcome',
      arguments: '["gid://shop/User/9",{"greeting":"hello"}]',
      activeJobId: activeJobId(deliveryJob),
    });
    expect(unwrapActiveJob(WRAPPER, argsText(mailDelivery), null, MAX_NAME_BYTES)).toMatchObject({
      jobClass: 'UserMailer#welcome',
      arguments: '[null,["gid://shop/User/9",{"greeting":"hello"}]]',
    });
    expect(unwrapActiveJob(WRAPPER, argsText(withParams), null, MAX_NAME_BYTES)).toMatchObject({
      jobClass: 'UserMailer#welcome',
      arguments: '[{"account":"gid://shop/User/3"},["gid://shop/User/9"]]',
    });
  });

  it("reads Sidekiq 7's own wrapper name, and the payload when the event carries no arguments", () => {
    const raw = argsText(invoice);
    expect(unwrapActiveJob('Sidekiq::ActiveJob::Wrapper', raw, null, MAX_NAME_BYTES)).toMatchObject(
      { jobClass: 'InvoiceJob', wrapperClass: 'Sidekiq::ActiveJob::Wrapper' },
    );
    expect(unwrapActiveJob(null, null, invoice, MAX_NAME_BYTES)).toMatchObject({
      jobClass: 'InvoiceJob',
      wrapperClass: WRAPPER,
      rawArguments: raw,
    });
  });

  it('leaves plain jobs and wrappers without a serialized Active Job alone', () => {
    expect(unwrapActiveJob('HardJob', '[1,2]', null, MAX_NAME_BYTES)).toBeNull();
    expect(unwrapActiveJob(WRAPPER, '["InvoiceJob"]', null, MAX_NAME_BYTES)).toBeNull();
    expect(unwrapActiveJob(WRAPPER, '[{"job_class":7}]', null, MAX_NAME_BYTES)).toBeNull();
    expect(unwrapActiveJob(WRAPPER, null, null, MAX_NAME_BYTES)).toBeNull();
    // a class Postgres could not store, or longer than a class may be
    expect(unwrapActiveJob(WRAPPER, '[{"job_class":"A\\u0000B"}]', null, 1024)).toBeNull();
    expect(
      unwrapActiveJob(WRAPPER, JSON.stringify([{ job_class: 'X'.repeat(1025) }]), null, 1024),
    ).toBeNull();
  });
});

describe('parseEvent with an Active Job', () => {
  const now = new Date('2026-11-23T10:00:00Z');

  it('records the real class and arguments and keeps the wrapper and its arguments', () => {
    const raw = argsText(invoice);
    const parsed = parseEvent(
      { type: 'queued', job_id: 'abc', job_class: WRAPPER, arguments: raw, payload: invoice },
      { path: '', form: false, now },
    );
    expect(parsed.event).toMatchObject({
      type: JobEventType.Queued,
      jobClass: 'InvoiceJob',
      arguments:
        '["gid://shop/User/7",3.0,18446744073709551617,{"a":1,"b":{"value":"sym"}},{"note":"x"}]',
      wrapperClass: WRAPPER,
      rawArguments: raw,
      activeJobId: activeJobId(invoice),
      payload: invoice,
    });
  });

  it('leaves a plain job as reported', () => {
    const parsed = parseEvent(
      { type: 'started', job_id: 'abc', job_class: 'HardJob', arguments: '[1.0]' },
      { path: '', form: false, now },
    );
    expect(parsed.event).toMatchObject({
      jobClass: 'HardJob',
      arguments: '[1.0]',
      wrapperClass: null,
      rawArguments: null,
      activeJobId: null,
    });
  });
});
