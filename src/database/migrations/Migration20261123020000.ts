import { Migration } from '@mikro-orm/migrations';

// Job metrics (GET /api/v1/metrics/jobs) over terminal jobs by outcome time. Key expressions and
// predicate match JobMetricsService's window query. The class-first index hands a window over
// already grouped by class and queue, with every column the query reads (index-only scan); the
// time-first one serves narrow windows; the statistics give the planner the outcome times'
// distribution to choose between them.
export class Migration20261123020000 extends Migration {
  override up(): void {
    this.addSql(`create index "jobs_class_outcome_metrics_index" on "jobs"
      ("job_class", "queue", (coalesce("completed_at", "failed_at")))
      include ("instance", "status", "created_at", "enqueued_at", "started_at", "completed_at",
        "failed_at", "duration_ms")
      where "status" in ('succeeded', 'failed', 'dead');`);
    this.addSql(`create index "jobs_outcome_at_index" on "jobs"
      ((coalesce("completed_at", "failed_at")))
      where "status" in ('succeeded', 'failed', 'dead');`);
    this.addSql(
      `create statistics "jobs_outcome_at_stats" on (coalesce("completed_at", "failed_at")) from "jobs";`,
    );
  }

  override down(): void {
    this.addSql(`drop statistics if exists "jobs_outcome_at_stats";`);
    this.addSql(`drop index if exists "jobs_outcome_at_index";`);
    this.addSql(`drop index if exists "jobs_class_outcome_metrics_index";`);
  }
}
