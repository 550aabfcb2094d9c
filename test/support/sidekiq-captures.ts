// Payloads captured from real Sidekiq 6.4.1, 7 and 8 (test/fixtures), for the unit tests of the
// pure payload code in src/sidekiq/payload.
import { readFileSync } from 'node:fs';
import type { DecodedJob, JobPayload } from '../../src/sidekiq/payload/job-record.js';

interface DumpEntry {
  key: string;
  type: string;
  value: unknown;
}

const fixture = <T>(path: string): T =>
  JSON.parse(readFileSync(new URL(`../fixtures/${path}`, import.meta.url), 'utf8')) as T;

const dump = fixture<DumpEntry[]>('sidekiq-6.4.1/dump-2-server-running.json');
export const apiRead = fixture<Record<string, any>>('sidekiq-6.4.1/api-read.json');
export const apiMutate = fixture<Record<string, any>>('sidekiq-6.4.1/api-mutate.json');
export const v7 = fixture<Record<string, any>>('sidekiq-7/payloads.json');
export const v8 = fixture<Record<string, any>>('sidekiq-8/payloads.json');

/** The value of a key in the 6.4.1 dump taken with a server running. */
export const key = (name: string) => dump.find((e) => e.key === name)!.value;

/** The members of a sorted set in that dump. */
export const members = (name: string) =>
  (key(name) as { score: number; member: string }[]).map((e) => e.member);

export function decoded(job: JobPayload): DecodedJob {
  if (!job.decodable) {
    throw new Error(`not decodable: ${job.decodeError}`);
  }
  return job;
}
