import { inspect } from 'node:util';
import type { AuditEntry } from '../audit/audit-capture.js';
import { DomainError } from '../common/errors/domain-error.js';
import { Table } from './format.js';
import { createReplJobManager, replError } from './job-manager.repl.js';
import type { JobManagerService } from './job-manager.service.js';

describe('replError', () => {
  it('prints a validation error as one line per field, without stack or details', () => {
    const sut = replError(
      new DomainError('VALIDATION_FAILED', 'limit: bad; offset: bad', {
        errors: [
          { field: 'limit', message: 'must be an integer from 1 to 1000' },
          { field: 'offset', message: 'offset must be at most 10000' },
        ],
      }),
    );
    // the REPL prints an error's stack and then its own properties
    expect(sut.stack).toBe(
      'VALIDATION_FAILED: limit must be an integer from 1 to 1000\n' +
        'VALIDATION_FAILED: offset must be at most 10000',
    );
    expect(Object.keys(sut)).toEqual([]);
  });

  it('prints another domain error as its code and message', () => {
    const sut = replError(new DomainError('JOB_NOT_FOUND', 'No job with job_id abc', {}));
    expect(sut.stack).toBe('JOB_NOT_FOUND: No job with job_id abc');
    expect(Object.keys(sut)).toEqual([]);
  });

  it('leaves other errors (bugs, outages) with their stack', () => {
    const bug = new TypeError('x is undefined');
    expect(replError(bug)).toBe(bug);
    expect(inspect(replError(bug))).toMatch(/\n\s+at /);
  });
});

describe('the REPL JobManager', () => {
  const sut = createReplJobManager(
    {} as JobManagerService,
    { record: (_, change) => change() },
    'ops',
  );

  it('prints its help for JobManager.help, JobManager.help() and JobManager', () => {
    const help = inspect(sut.help);
    expect(help).toContain('JobManager.restart_uncompleted_jobs');
    expect(help).not.toContain('[Function');
    expect(inspect(sut.help())).toBe(help);
    expect(inspect(sut)).toBe(help);
  });
});

describe('the REPL restart and the audit log', () => {
  const report = {
    dry_run: false,
    considered: 2,
    restarted: 1,
    skipped: 1,
    restarted_jids: ['new1'],
    items: [
      { job_id: 'old1', restarted_as: 'new1', outcome: 'restarted' },
      { job_id: 'old2', restarted_as: null, outcome: 'held_by_sidekiq' },
    ],
  };

  it('records the restart as actor repl with its options, then its counts and jids', async () => {
    const calls: unknown[][] = [];
    const service = {
      restartUncompletedJobs: (...args: unknown[]) => {
        calls.push(args);
        return Promise.resolve(report);
      },
    } as unknown as JobManagerService;
    const recorded: { entry: AuditEntry; result: Record<string, unknown> }[] = [];
    const sut = createReplJobManager(
      service,
      {
        record: async (entry, change, summarize) => {
          const value = await change();
          recorded.push({ entry, result: summarize(value) });
          return value;
        },
      },
      'ops',
    );
    await sut.restart_uncompleted_jobs('abc', { instance: 'eu', minAgeSeconds: 0 });
    expect(calls).toEqual([['abc', { instance: 'eu', minAgeSeconds: 0 }]]);
    expect(recorded).toEqual([
      {
        entry: {
          actor: { kind: 'repl', osUser: 'ops' },
          action: 'job_manager.restart',
          route: null,
          instance: 'eu',
          clientAddress: null,
          userAgent: null,
          targets: {},
          options: { filter: 'abc', minAgeSeconds: 0 },
        },
        result: {
          dry_run: false,
          considered: 2,
          restarted: 1,
          skipped: 1,
          jids: ['old1', 'new1', 'old2'],
        },
      },
    ]);
  });

  it('does not restart when the record cannot be written', async () => {
    let restarted = false;
    const service = {
      restartUncompletedJobs: () => {
        restarted = true;
        return Promise.resolve(report);
      },
    } as unknown as JobManagerService;
    const refused = new DomainError('AUDIT_UNAVAILABLE', 'not written');
    const sut = createReplJobManager(service, { record: () => Promise.reject(refused) }, 'ops');
    await expect(sut.restart_uncompleted_jobs('abc')).rejects.toBe(refused);
    expect(restarted).toBe(false);
  });
});

describe('Table', () => {
  it('prints the title above the rows and the footer under them', () => {
    const sut = new Table([{ a: 1 }], ['a'], 'the footer', 'the title');
    expect(String(sut).split('\n')).toEqual(['the title', 'a', '─', '1', 'the footer']);
    expect(String(new Table([], ['a'], 'end', 'top'))).toBe('top\n(no rows) end');
  });
});
