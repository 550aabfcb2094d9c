// Drives the Ruby client's end-to-end harness (clients/ruby/test/e2e/run_scenario.rb): a real Sidekiq
// server process plus a producer, both reporting to the service under test. Needs Debian's ruby and
// ruby-sidekiq (scripts/ensure-ruby.sh) and a Redis for Sidekiq.
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

export type RubyClientMode = 'sync' | 'async';

/** One expected event; retry_count / will_retry are given where the harness is certain of them. */
export interface ExpectedEvent {
  type: string;
  retry_count?: number;
  will_retry?: boolean;
}

export interface ScenarioJob {
  scenario: string;
  class: string;
  queue: string;
  /** the args array as JSON text, exactly as the client sends it */
  arguments: string;
  expected_status: 'succeeded' | 'dead';
  /** event types in the order they happen (sort a job's events by occurred_at) */
  expected_events: string[];
  expected_event_details: ExpectedEvent[];
  /** pushed through the client middleware and left with its mark: runs send only what they add */
  marked: boolean;
  /** on an unmarked job: the marked job it repeats (same class, arguments and events) */
  twin_of?: string;
  /** on an Active Job: its job_id (class and arguments above are its own, not the wrapper's) */
  active_job_id?: string;
}

export interface ScenarioManifest {
  run_id: string;
  /** every event of both processes was acknowledged (nothing failed, dropped, rejected or left buffered) */
  delivery_ok: boolean;
  mode: RubyClientMode;
  instance: string;
  queue: string;
  settled: boolean;
  duration_s: number;
  sidekiq: { version: string; pid: number; exit_status: number | null; log: string };
  harness_pid: number;
  client_stats: Record<string, unknown>;
  server_stats: Record<string, unknown> | null;
  jobs: Record<string, ScenarioJob>;
}

export interface RunScenarioOptions {
  /** the service's base URL, e.g. http://127.0.0.1:3000 */
  url: string;
  /** a token with scope ingest (or admin) */
  token: string;
  /** Redis for Sidekiq; use a database of its own when flushRedis is set */
  redisUrl: string;
  mode: RubyClientMode;
  timeoutSeconds?: number;
  /** move retries to their queue at once instead of waiting out Sidekiq 6's retry jitter */
  fastRetries?: boolean;
  /** FLUSHDB the Redis database first */
  flushRedis?: boolean;
  /** SIDEKIQ_SUPERVISOR_INSTANCE for both processes */
  instance?: string;
}

export interface ScenarioResult {
  manifest: ScenarioManifest;
  stderr: string;
}

export const RUBY_CLIENT_DIR = resolve(import.meta.dirname, '../../clients/ruby');
export const RUN_SCENARIO = resolve(RUBY_CLIENT_DIR, 'test/e2e/run_scenario.rb');

/** Runs the harness; resolves with its manifest, rejects (with stderr) when it exits non-zero. */
export function runRubyScenario(opts: RunScenarioOptions): Promise<ScenarioResult> {
  const args = [RUN_SCENARIO, '--mode', opts.mode, '--timeout', String(opts.timeoutSeconds ?? 60)];
  if (opts.fastRetries ?? true) {
    args.push('--fast-retries');
  }
  if (opts.flushRedis) {
    args.push('--flush-redis');
  }
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SIDEKIQ_SUPERVISOR_URL: opts.url,
    SIDEKIQ_SUPERVISOR_TOKEN: opts.token,
    REDIS_URL: opts.redisUrl,
    SIDEKIQ_SUPERVISOR_MODE: opts.mode,
  };
  if (opts.instance) {
    env.SIDEKIQ_SUPERVISOR_INSTANCE = opts.instance;
  }
  return new Promise((resolvePromise, reject) => {
    const child = spawn('ruby', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) {
        reject(new Error(`run_scenario.rb exited with ${code}:\n${stderr.slice(-4000)}`));
        return;
      }
      try {
        resolvePromise({ manifest: JSON.parse(stdout) as ScenarioManifest, stderr });
      } catch (err) {
        reject(
          new Error(
            `run_scenario.rb printed no manifest (${String(err)}):\n${stderr.slice(-4000)}`,
          ),
        );
      }
    });
  });
}
