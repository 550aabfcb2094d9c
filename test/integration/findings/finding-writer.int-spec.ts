import { type EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { type FindingDraft, recordFindings } from '../../../src/findings/finding-writer.js';
import { FindingsService } from '../../../src/findings/findings.service.js';
import { TestApp } from '../../support/test-context.js';

// The one writer every detector uses (the findings module's, fingerprints and deploys, overdue):
// open, refresh, end by identity, kept as history.
describe('recordFindings on real Postgres', () => {
  let ctx: TestApp;
  let orm: { em: EntityManager };
  const t0 = new Date('2026-12-04T10:00:00Z');
  const at = (min: number) => new Date(t0.getTime() + min * 60_000);
  const draft = (identity: string, instance = 'default', summary = 'why'): FindingDraft => ({
    identity,
    instance,
    jobClass: 'SomeJob',
    jid: null,
    severity: 'warning',
    summary,
    evidence: { n: 1 },
  });
  const write = (drafts: FindingDraft[], now: Date, end: Parameters<typeof recordFindings>[4]) =>
    orm.em.fork().transactional((em) => recordFindings(em, 'overdue', drafts, now, end));
  const rows = async (identity: string) =>
    (
      await ctx.get(FindingsService).list({ detector: 'overdue', offset: 0, limit: 100 })
    ).rows.filter((r) => r.identity === identity);

  beforeAll(async () => {
    ctx = await TestApp.start();
    orm = ctx.get(MikroORM) as unknown as { em: EntityManager };
  });
  afterAll(() => ctx.close());

  it('opens once, refreshes while seen, ends when not, and opens a new row when seen again', async () => {
    expect(await write([draft('w:a'), draft('w:a', 'default', 'last wins')], at(0), 'all')).toEqual(
      {
        opened: 1,
        refreshed: 0,
        ended: 0,
      },
    );
    expect(await write([draft('w:a', 'default', 'now')], at(1), 'all')).toEqual({
      opened: 0,
      refreshed: 1,
      ended: 0,
    });
    let [one] = await rows('w:a');
    expect(one).toMatchObject({
      summary: 'now',
      startedAt: at(0),
      lastSeenAt: at(1),
      endedAt: null,
    });

    expect((await write([], at(2), 'all')).ended).toBe(1);
    expect((await write([draft('w:a')], at(3), 'all')).opened).toBe(1);
    const history = await rows('w:a');
    expect(history).toHaveLength(2);
    [one] = history.filter((r) => r.endedAt !== null);
    expect(one).toMatchObject({ startedAt: at(0), endedAt: at(2) });
    expect(history.find((r) => r.endedAt === null)?.startedAt).toEqual(at(3));
    await write([], at(4), 'all');
  });

  it('keeps unseen findings open on a partial evaluation, and those of an unread instance', async () => {
    await write([draft('w:b', 'east'), draft('w:c', 'west')], at(10), 'all');
    expect((await write([], at(11), 'none')).ended).toBe(0);
    expect((await write([], at(12), { exceptInstances: ['west'] })).ended).toBe(1);
    expect((await rows('w:b'))[0]?.endedAt).toEqual(at(12));
    expect((await rows('w:c'))[0]?.endedAt).toBeNull();
  });

  it("never moves last_seen_at back: a draft's own seenAt older than the open one's is kept", async () => {
    await write([{ ...draft('w:d'), seenAt: at(20) }], at(21), 'all');
    await write([{ ...draft('w:d'), seenAt: at(15) }], at(22), 'all');
    expect((await rows('w:d'))[0]).toMatchObject({ startedAt: at(21), lastSeenAt: at(20) });
  });
});
