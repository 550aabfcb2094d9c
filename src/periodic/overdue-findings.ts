import type { EntityManager } from '@mikro-orm/postgresql';

/** An overdue periodic job or class, as a row of the shared `findings` table (issue #23 contract). */
export interface OverdueFinding {
  /** 'overdue:<instance>:<cron job name>' or 'overdue:<instance>:class:<job class>' */
  readonly identity: string;
  readonly instance: string;
  readonly jobClass: string;
  readonly severity: 'warning' | 'critical';
  readonly summary: string;
  readonly evidence: Record<string, unknown>;
}

/**
 * Writes the overdue detector's findings: one open row per identity while it lasts (the partial
 * unique index findings_open_identity), its last_seen_at moved on each check, ended once the job
 * is no longer overdue (it succeeded, was disabled or removed).
 */
export class OverdueFindings {
  constructor(private readonly em: EntityManager) {}

  async open(findings: readonly OverdueFinding[], now: Date): Promise<void> {
    if (findings.length === 0) {
      return;
    }
    await this.em.execute(
      `insert into findings (detector, identity, instance, job_class, severity, summary, evidence,
         started_at, last_seen_at)
       select 'overdue', f.identity, f.instance, f.job_class, f.severity, f.summary, f.evidence,
         ?::timestamptz, ?::timestamptz
       from jsonb_to_recordset(?::jsonb)
         as f(identity text, instance text, job_class text, severity text, summary text, evidence jsonb)
       on conflict (identity) where ended_at is null do update set
         severity = excluded.severity, summary = excluded.summary, evidence = excluded.evidence,
         last_seen_at = excluded.last_seen_at`,
      [
        now.toISOString(),
        now.toISOString(),
        JSON.stringify(
          findings.map((f) => ({
            identity: f.identity,
            instance: f.instance,
            job_class: f.jobClass,
            severity: f.severity,
            summary: f.summary,
            evidence: f.evidence,
          })),
        ),
      ],
    );
  }

  /**
   * Ends every open overdue finding not in `stillOpen`, except those of `unchecked` instances
   * (their Redis did not answer: nothing is known about their cron jobs). Returns how many ended.
   */
  async endOthers(
    stillOpen: readonly string[],
    unchecked: readonly string[],
    now: Date,
  ): Promise<number> {
    const rows = await this.em.execute<{ id: string }[]>(
      `update findings set ended_at = ?::timestamptz
       where detector = 'overdue' and ended_at is null
         and not (identity = any(array(select jsonb_array_elements_text(?::jsonb))))
         and not (instance = any(array(select jsonb_array_elements_text(?::jsonb))))
       returning id`,
      [now.toISOString(), JSON.stringify(stillOpen), JSON.stringify(unchecked)],
    );
    return rows.length;
  }
}
