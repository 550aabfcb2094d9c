import type { RestartReport } from './job-manager.service.js';

/**
 * A restart's outcome in its audit record: the counts, and the jobs it considered with the jids it
 * pushed them as (each one's page shows the restart). REST and REPL record the same.
 */
export function restartAuditResult(report: RestartReport): Record<string, unknown> {
  return {
    dry_run: report.dry_run,
    considered: report.considered,
    restarted: report.restarted,
    skipped: report.skipped,
    jids: report.items.flatMap((item) =>
      item.restarted_as ? [item.job_id, item.restarted_as] : [item.job_id],
    ),
  };
}
