import type { EntityManager } from '@mikro-orm/postgresql';

export type FailureDetector = 'new_failure' | 'deploy_regression';

/** A finding as its detector sees it now. */
export interface FindingDraft {
  identity: string;
  instance: string;
  jobClass: string | null;
  jid: string | null;
  severity: 'warning' | 'critical';
  summary: string;
  evidence: Record<string, unknown>;
  /** when what it is about was last seen */
  seenAt: Date;
}

// One open finding per identity (the contract's partial unique index findings_open_identity):
// a finding still open is brought up to date, one that ended is started again as a new row.
const OPEN_SQL = `
insert into findings as f (detector, identity, instance, job_class, jid, severity, summary,
  evidence, started_at, last_seen_at)
select ?, identity, instance, job_class, jid, severity, summary, evidence, ?::timestamptz, seen_at
from jsonb_to_recordset(?::jsonb) as d(identity text, instance text, job_class text, jid text,
  severity text, summary text, evidence jsonb, seen_at timestamptz)
on conflict (identity) where ended_at is null do update set
  last_seen_at = greatest(f.last_seen_at, excluded.last_seen_at), severity = excluded.severity,
  summary = excluded.summary, evidence = excluded.evidence
returning (xmax = 0) as opened`;

/**
 * Makes `detector`'s open findings exactly `drafts`: each is opened or updated, and every other
 * open finding of the detector ends at `now`. The findings table belongs to the detectors
 * (#23's contract); this is the failures module's only write to it.
 */
export async function syncFindings(
  em: EntityManager,
  detector: FailureDetector,
  drafts: FindingDraft[],
  now: Date,
): Promise<{ opened: number; ended: number }> {
  // one row per identity: a statement cannot update the same finding twice
  drafts = [...new Map(drafts.map((d) => [d.identity, d])).values()];
  let opened = 0;
  if (drafts.length > 0) {
    const rows = await em.execute<{ opened: boolean }[]>(OPEN_SQL, [
      detector,
      now.toISOString(),
      JSON.stringify(
        drafts.map((d) => ({
          identity: d.identity,
          instance: d.instance,
          job_class: d.jobClass,
          jid: d.jid,
          severity: d.severity,
          summary: d.summary,
          evidence: d.evidence,
          seen_at: d.seenAt.toISOString(),
        })),
      ),
    ]);
    opened = rows.filter((r) => r.opened).length;
  }
  const ended = await em.execute<{ id: string }[]>(
    `update findings set ended_at = ? where detector = ? and ended_at is null
       and identity not in (select jsonb_array_elements_text(?::jsonb)) returning id`,
    [now.toISOString(), detector, JSON.stringify(drafts.map((d) => d.identity))],
  );
  return { opened, ended: ended.length };
}
