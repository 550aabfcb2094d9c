import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { applicationFrame, fingerprintOf, isLibraryFrame, normalizeFrame } from './fingerprint.js';

// Backtraces as Sidekiq stores them, from a Debian system install (test/fixtures/sidekiq-6.4.1),
// a Docker image with bundler, a Capistrano release and Ruby 3.4's quoting
const fixture = JSON.parse(
  readFileSync(
    new URL('../../../test/fixtures/sidekiq-6.4.1/api-read.json', import.meta.url),
    'utf8',
  ),
) as unknown;

function backtracesIn(value: unknown, found: string[][] = []): string[][] {
  if (Array.isArray(value)) {
    value.forEach((v) => backtracesIn(v, found));
  } else if (value && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      if (key === 'error_backtrace' && Array.isArray(v)) {
        found.push(v as string[]);
      } else {
        backtracesIn(v, found);
      }
    }
  }
  return found;
}

const DOCKER = [
  "/usr/local/bundle/gems/activerecord-7.1.3/lib/active_record/core.rb:253:in `find'",
  "/app/app/jobs/invoice_job.rb:14:in `perform'",
  "/usr/local/bundle/gems/sidekiq-7.2.4/lib/sidekiq/processor.rb:202:in `execute_job'",
];
const CAPISTRANO = (release: string, line: number) => [
  `/home/deploy/app/shared/bundle/ruby/3.2.0/gems/net-http-0.4.1/lib/net/http.rb:1603:in \`connect'`,
  `/usr/local/lib/ruby/3.2.0/net/protocol.rb:43:in \`ssl_socket_connect'`,
  `/home/deploy/app/releases/${release}/app/services/billing/client.rb:${line}:in \`charge'`,
  `/home/deploy/app/releases/${release}/app/jobs/charge_job.rb:9:in \`perform'`,
];
const RUBY_34 = [
  "<internal:kernel>:168:in 'Kernel#loop'",
  "/app/app/jobs/report_job.rb:22:in 'ReportJob#perform'",
];

describe('application frame', () => {
  it('skips the gems of a system install and finds the job in the captured Sidekiq 6.4.1 retries', () => {
    const traces = backtracesIn(fixture);
    expect(traces.length).toBeGreaterThan(0);
    for (const trace of traces) {
      expect(applicationFrame(trace)).toBe('sidekiq-capture/jobs.rb in perform');
    }
  });

  it.each([
    [DOCKER, '/app/app/jobs/invoice_job.rb in perform'],
    [
      CAPISTRANO('20261204120000', 88),
      '/home/deploy/app/releases/<n>/app/services/billing/client.rb in charge',
    ],
    [RUBY_34, '/app/app/jobs/report_job.rb in ReportJob#perform'],
  ])('finds the first frame outside libraries: %#', (trace, frame) => {
    expect(applicationFrame(trace)).toBe(frame);
  });

  it('falls back to the first frame when every frame is a library’s, and to null without one', () => {
    expect(applicationFrame([DOCKER[0], DOCKER[2]])).toBe(
      '/usr/local/bundle/gems/activerecord-<n>.<n>.<n>/lib/active_record/core.rb in find',
    );
    expect(applicationFrame([])).toBeNull();
    expect(applicationFrame(null)).toBeNull();
  });

  it('tells library frames from application frames', () => {
    for (const line of [
      '/usr/lib/ruby/vendor_ruby/sidekiq/processor.rb:1',
      '/app/vendor/bundle/ruby/3.3.0/bundler/gems/rails-abc123/activejob/lib/x.rb:3',
      '/opt/rubies/ruby-3.2.2/lib/ruby/3.2.0/json/common.rb:216',
      '/usr/local/lib/ruby/site_ruby/3.2.0/rubygems/core_ext/kernel_require.rb:38',
      '<internal:kernel>:90',
      '(eval):1',
    ]) {
      expect(isLibraryFrame(line)).toBe(true);
    }
    for (const line of ['/app/app/jobs/x.rb:1', 'app/models/user.rb:10', 'lib/tasks/sync.rb:2']) {
      expect(isLibraryFrame(line)).toBe(false);
    }
  });

  it('drops the line number and masks digits in the path', () => {
    expect(normalizeFrame("/app/app/jobs/x.rb:12:in `block (2 levels) in perform'")).toBe(
      '/app/app/jobs/x.rb in block (<n> levels) in perform',
    );
    expect(normalizeFrame('/app/lib/thing.rb:5')).toBe('/app/lib/thing.rb');
  });
});

describe('fingerprintOf', () => {
  it('is the same across deploys that move the line and the release directory', () => {
    const a = fingerprintOf(
      'Net::OpenTimeout',
      'execution expired',
      CAPISTRANO('20261204120000', 88),
    );
    const b = fingerprintOf(
      'Net::OpenTimeout',
      'execution expired',
      CAPISTRANO('20261205090000', 91),
    );
    expect(a).toEqual(b);
    expect(a.fingerprint).toMatch(/^[0-9a-f]{16}$/);
  });

  it('differs by error class, by message shape and by application frame', () => {
    const base = fingerprintOf(
      'ActiveRecord::RecordNotFound',
      "Couldn't find User with 'id'=1",
      DOCKER,
    );
    const others = [
      fingerprintOf('ActiveRecord::RecordInvalid', "Couldn't find User with 'id'=1", DOCKER),
      fingerprintOf('ActiveRecord::RecordNotFound', "Couldn't find Order with 'id'=1", DOCKER),
      fingerprintOf('ActiveRecord::RecordNotFound', "Couldn't find User with 'id'=1", RUBY_34),
    ];
    for (const other of others) {
      expect(other.fingerprint).not.toBe(base.fingerprint);
    }
  });

  it('groups failures that differ only in numbers and ids', () => {
    const id = fc.oneof(
      fc.nat().map(String),
      fc.uuid(),
      fc.stringMatching(/^[0-9a-f]{12}\d[0-9a-f]{10}a$/),
    );
    fc.assert(
      fc.property(id, id, fc.nat(), fc.nat(), (a, b, lineA, lineB) => {
        fc.pre(/^\d+$/.test(a) === /^\d+$/.test(b) && a.includes('-') === b.includes('-'));
        const trace = (line: number) => [
          DOCKER[0],
          `/app/app/jobs/invoice_job.rb:${line}:in \`perform'`,
        ];
        expect(fingerprintOf('KeyError', `key not found: ${a}`, trace(lineA)).fingerprint).toBe(
          fingerprintOf('KeyError', `key not found: ${b}`, trace(lineB)).fingerprint,
        );
      }),
      { seed: 23, numRuns: 200 },
    );
  });
});
