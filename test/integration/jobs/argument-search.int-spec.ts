import { MikroORM } from '@mikro-orm/postgresql';
import { Job } from '../../../src/jobs/job.entity.js';
import type { JobQuery, JobRepository } from '../../../src/jobs/job.repository.js';
import { TestApp } from '../../support/test-context.js';

// Argument search on a table big enough for the repository to sample it and drive the trigram
// index with the needle's rarest word: whatever word drives the scan, the rows must be exactly
// those whose arguments contain the whole needle, newest first, page after page.

const ROWS = 60_000;

describe('argument search on a large jobs table', () => {
  let ctx: TestApp;
  let jobs: JobRepository;

  beforeAll(async () => {
    ctx = await TestApp.start();
    // every row says "customer"; ids 1..ROWS; a few rows share the rare number with or without
    // the whole needle, and one contains the needle inside a longer number
    await ctx.db.sql.query(
      `insert into jobs (instance, jid, job_class, queue, arguments, status, attempt, event_count,
         first_event_at, last_event_at)
       select 'default', 'search-' || g, 'Job', 'default',
         case
           when g % 9973 = 0 then '["customer-424242",{"n":' || g || '}]'
           when g % 9973 = 1 then '["invoice-424242",{"n":' || g || '}]'
           when g = 33333 then '["customer-4242421"]'
           else '["customer-' || g || '",{"tenant":"t' || (g % 40) || '"}]'
         end,
         case when g % 2 = 0 then 'queued' else 'succeeded' end, 0, 1, now(), now()
       from generate_series(1, $1::int) g`,
      [ROWS],
    );
    await ctx.db.sql.query('analyze jobs');
    jobs = ctx.get(MikroORM).em.fork().getRepository(Job) as JobRepository;
  });

  afterAll(async () => {
    await ctx?.close();
  });

  async function expected(needle: string, status?: string): Promise<string[]> {
    const { rows } = await ctx.db.sql.query<{ jid: string }>(
      `select jid from jobs where strpos(arguments, $1) > 0 and ($2::text is null or status = $2)
       order by id desc`,
      [needle, status ?? null],
    );
    return rows.map((r) => r.jid);
  }

  async function searchAll(
    query: Omit<JobQuery, 'limit' | 'offset'>,
    limit: number,
  ): Promise<string[]> {
    const found: string[] = [];
    for (let offset = 0; ; offset += limit) {
      const page = await jobs.search({ ...query, limit, offset });
      found.push(...page.map((j) => j.jid));
      if (page.length < limit) {
        return found;
      }
    }
  }

  it.each([
    ['a common word and a rare number', 'customer-424242', undefined, 2],
    ['the same with a status', 'customer-424242', 'queued', 2],
    ['a needle ending inside a word', 'stomer-42424', undefined, 2],
    ['words that are all common', '{"tenant":"t17"}', undefined, 500],
  ])('finds exactly the rows containing %s', async (_name, needle, status, limit) => {
    const want = await expected(needle, status);
    expect(want.length).toBeGreaterThan(0);
    const got = await searchAll(
      { argumentsContain: needle, statuses: status ? [status] : [] },
      limit,
    );
    expect(got).toEqual(want);
  });

  it('does not return rows holding only the rare word', async () => {
    const got = await searchAll({ argumentsContain: 'customer-424242' }, 2);
    const { rows } = await ctx.db.sql.query<{ n: number }>(
      `select count(*)::int as n from jobs where arguments like '%invoice-424242%'`,
    );
    expect(rows[0].n).toBeGreaterThan(0);
    expect(got.length).toBeGreaterThan(0);
    const args = await ctx.db.sql.query<{ arguments: string }>(
      'select arguments from jobs where jid = any($1)',
      [got],
    );
    expect(args.rows.every((r) => r.arguments.includes('customer-424242'))).toBe(true);
  });
});
