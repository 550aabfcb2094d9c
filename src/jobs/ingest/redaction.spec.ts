import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { REDACTED, Redactor } from '../../common/redaction/redactor.js';
import { parseRedaction } from '../../config/redaction.js';
import { JobEventType } from '../job-lifecycle.enum.js';
import { parseEvent } from './event-parser.js';
import { splitPayload } from './payload-args.js';

const redactor = new Redactor(parseRedaction({ REDACT_CLASSES: 'PaymentJob,VaultJob' }).settings);
const ctx = { path: '', form: false, now: new Date('2026-12-04T12:00:00Z'), redactor };
const PW = 'hunter2-pw';
const [ACTIVE_JOB] = readFileSync(
  new URL('../../../test/fixtures/active-job/rails-6.1-sidekiq-6.4.1.jsonl', import.meta.url),
  'utf8',
).split('\n');

const parsed = (body: Record<string, unknown>) => {
  const out = parseEvent({ job_id: 'j1', occurred_at: '2026-12-04T11:00:00Z', ...body }, ctx);
  if (out.errors) {
    throw new Error(JSON.stringify(out.errors));
  }
  return out;
};

describe('parseEvent redacts before storage', () => {
  it('arguments and the payload agree, so the payload is still stored without its args', () => {
    const args = `[{"password":"${PW}"},18446744073709551617]`;
    const { event } = parsed({
      type: 'queued',
      job_class: 'SignupJob',
      arguments: args,
      payload: `{"class":"SignupJob","args":${args},"jid":"j1","created_at":1795394268255}`,
    });
    expect(event.arguments).toBe(`[{"password":"${REDACTED}"},18446744073709551617]`);
    expect(event.payload).toBe(
      `{"class":"SignupJob","args":${event.arguments},"jid":"j1","created_at":1795394268255}`,
    );
    expect(splitPayload(event.payload!, event.arguments).argsAt).not.toBeNull();
  });

  it('the started event a finishing event stands for carries the same redacted values', () => {
    const { event, started } = parsed({
      type: 'failed',
      job_class: 'SignupJob',
      arguments: `["token=abc123"]`,
      error_message: `Bearer abcdefgh12345678 refused`,
      error_backtrace: [`x.rb:1 password=${PW}`],
      started_at: '2026-12-04T10:59:00Z',
    });
    expect(event.arguments).toBe(`["token=${REDACTED}"]`);
    expect(event.errorMessage).toBe(`Bearer ${REDACTED} refused`);
    expect(JSON.parse(event.errorBacktrace!)).toEqual([`x.rb:1 password=${REDACTED}`]);
    expect(started!.type).toBe(JobEventType.Started);
    expect(started!.arguments).toBe(event.arguments);
  });

  it("unwraps an Active Job from its redacted arguments, the client's display_args too", () => {
    const job = JSON.parse(ACTIVE_JOB!) as { class: string; args: [{ arguments: unknown[] }] };
    job.args[0].arguments = [{ password: PW, _aj_symbol_keys: ['password'] }];
    const { event } = parsed({
      type: 'queued',
      job_class: job.class,
      arguments: JSON.stringify(job.args),
    });
    expect(event.jobClass).toBe('InvoiceJob');
    expect(event.arguments).toBe(`[{"password":"${REDACTED}"}]`);
    expect(event.rawArguments).toContain(`"password":"${REDACTED}","_aj_symbol_keys":["password"]`);

    const sent = parsed({
      type: 'queued',
      job_class: job.class,
      arguments: JSON.stringify(job.args),
      display_class: 'InvoiceJob',
      display_args: `[{"password":"${PW}"}]`,
    }).event;
    expect(sent.arguments).toBe(`[{"password":"${REDACTED}"}]`);
    expect(sent.rawArguments).not.toContain(PW);
  });

  it('keeps no argument of a REDACT_CLASSES class, plain or wrapped', () => {
    const plain = parsed({
      type: 'queued',
      job_class: 'PaymentJob',
      arguments: '["4111 1111 1111 1111", 12]',
      payload: '{"class":"PaymentJob","args":["4111 1111 1111 1111", 12],"jid":"j1"}',
    }).event;
    expect(plain.arguments).toBe(`["${REDACTED}"]`);
    expect(plain.payload).toBe(`{"class":"PaymentJob","args":["${REDACTED}"],"jid":"j1"}`);
    const job = JSON.parse(ACTIVE_JOB!) as { class: string; args: [{ job_class: string }] };
    job.args[0].job_class = 'VaultJob';
    const wrapped = parsed({
      type: 'queued',
      job_class: job.class,
      arguments: JSON.stringify(job.args),
    }).event;
    expect(wrapped.jobClass).toBe('VaultJob');
    expect([wrapped.arguments, wrapped.rawArguments]).toEqual([
      `["${REDACTED}"]`,
      `["${REDACTED}"]`,
    ]);
  });

  it('property: whatever is reported, the parser answers and what it stores holds no secret', () => {
    const secret = fc.constantFrom(PW, 'sk_live_4eC39HqLyjWDarjtT1zdp7dc', '4111111111111111');
    const args = fc
      .tuple(fc.jsonValue({ maxDepth: 2 }), secret, fc.constantFrom('password', 'apiKey', 'note'))
      .map(([noise, s, key]) =>
        JSON.stringify([noise, { [key]: key === 'note' ? `see ${s === PW ? `pwd=${s}` : s}` : s }]),
      );
    fc.assert(
      fc.property(args, (text) => {
        const out = parseEvent({ type: 'queued', job_id: 'j1', arguments: text }, ctx);
        expect(out.errors).toBeUndefined();
        const stored = out.event!.arguments!;
        expect(() => JSON.parse(stored)).not.toThrow();
        for (const s of [PW, 'sk_live_', '4111111111111111']) {
          expect(stored).not.toContain(s);
        }
      }),
      { seed: 24, numRuns: 300 },
    );
  });
});
