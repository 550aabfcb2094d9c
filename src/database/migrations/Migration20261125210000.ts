import { Migration } from '@mikro-orm/migrations';
import { ACTIVE_JOB_WRAPPERS, unwrapActiveJob } from '../../jobs/active-job.js';
import { MAX_NAME_BYTES } from '../../jobs/ingest/event-parser.js';

const TABLES = ['job_events', 'jobs'] as const;
const BATCH = 1000;

interface StoredRow {
  id: string;
  job_class: string;
  arguments: string | null;
  payload: string | null;
}

// Active Job: the wrapper's class and raw arguments beside the real class and arguments, and
// Active Job's own job_id (found by GET /api/v1/jobs/:job_id). Rows recorded before under the
// wrapper's name are rewritten here, with the rules ingestion now applies (active-job.ts), so a
// job keeps one class in the history, the metrics and the labels. The statements run now rather
// than at the end (addSql), so the rewrite sees the new columns.
export class Migration20261125210000 extends Migration {
  override async up(): Promise<void> {
    for (const table of TABLES) {
      await this.execute(`alter table "${table}"
        add column "wrapper_class" text null,
        add column "raw_arguments" text null,
        add column "active_job_id" text null;`);
    }
    await this.execute(`create index "jobs_active_job_id_index" on "jobs" ("active_job_id")
      where "active_job_id" is not null;`);
    for (const table of TABLES) {
      await this.rewrite(table);
    }
  }

  private async rewrite(table: (typeof TABLES)[number]): Promise<void> {
    const wrappers = [...ACTIVE_JOB_WRAPPERS];
    let after = '0';
    for (;;) {
      const rows = (await this.execute(
        `select id, job_class, arguments, case when arguments is null then payload end as payload
         from "${table}" where job_class in (${wrappers.map(() => '?').join(', ')}) and id > ?
         order by id limit ${BATCH}`,
        [...wrappers, after],
      )) as StoredRow[];
      if (rows.length === 0) {
        return;
      }
      after = String(rows[rows.length - 1].id);
      const updates = rows.flatMap((row) => {
        const unwrapped = unwrapActiveJob(
          row.job_class,
          row.arguments,
          row.payload,
          MAX_NAME_BYTES,
        );
        return unwrapped === null
          ? []
          : [
              {
                id: row.id,
                job_class: unwrapped.jobClass,
                arguments: unwrapped.arguments,
                wrapper_class: unwrapped.wrapperClass,
                raw_arguments: unwrapped.rawArguments,
                active_job_id: unwrapped.activeJobId,
              },
            ];
      });
      if (updates.length > 0) {
        await this.execute(
          `update "${table}" t set job_class = v.job_class, arguments = v.arguments,
             wrapper_class = v.wrapper_class, raw_arguments = v.raw_arguments,
             active_job_id = v.active_job_id
           from json_to_recordset(?::json) as v(id bigint, job_class text, arguments text,
             wrapper_class text, raw_arguments text, active_job_id text)
           where t.id = v.id`,
          [JSON.stringify(updates)],
        );
      }
      if (rows.length < BATCH) {
        return;
      }
    }
  }

  override async down(): Promise<void> {
    await this.execute(`drop index if exists "jobs_active_job_id_index";`);
    for (const table of TABLES) {
      await this.execute(`update "${table}" set job_class = wrapper_class, arguments = raw_arguments
        where wrapper_class is not null;`);
      await this.execute(`alter table "${table}" drop column "wrapper_class",
        drop column "raw_arguments", drop column "active_job_id";`);
    }
  }
}
