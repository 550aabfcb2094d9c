import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

// The Ruby gem's own test suite (minitest: events, configuration, Sidekiq 6/7/8 compatibility,
// transport timeouts against real loopback sinks, the async buffer, middleware on a real
// redis-server), run as part of `npm test`.
const ROOT = resolve(import.meta.dirname, '../..');

describe('Ruby client gem test suite', () => {
  it('passes every minitest case', async () => {
    await promisify(execFile)('bash', [join(ROOT, 'scripts/ensure-ruby.sh')]);
    let output: string;
    try {
      const result = await promisify(execFile)('ruby', ['test/run.rb'], {
        cwd: join(ROOT, 'clients/ruby'),
        env: { ...process.env, RUBYOPT: '-W0' },
        maxBuffer: 16 * 1024 * 1024,
      });
      output = result.stdout + result.stderr;
    } catch (error) {
      const e = error as { stdout?: string; stderr?: string };
      output = `${e.stdout ?? ''}${e.stderr ?? ''}`;
    }
    const summary = /(\d+) runs, (\d+) assertions, (\d+) failures, (\d+) errors/.exec(output);
    expect(summary, output.slice(-3000)).not.toBeNull();
    const [, runs, , failures, errors] = summary!.map(Number);
    expect(runs).toBeGreaterThan(50);
    expect({ failures, errors }, output.slice(-3000)).toEqual({ failures: 0, errors: 0 });
  });
});
