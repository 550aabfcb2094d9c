import { Migration } from '@mikro-orm/migrations';

// Job status data (progress and small custom key/values, as sidekiq-status keeps them) and the
// `cancelled` event the cancel route writes.
export class Migration20261124000000 extends Migration {
  override up(): void {
    this.addSql(`alter table "job_events" drop constraint "job_events_type_check";`);
    this.addSql(`alter table "job_events" add constraint "job_events_type_check" check ("type" in
      ('scheduled','queued','started','succeeded','failed','retrying','dead','interrupted',
       'restarted','cancelled'));`);
    this.addSql(`create table "job_status_data" (
      "instance" text not null,
      "jid" text not null,
      "at" bigint null,
      "total" bigint null,
      "message" text null,
      "data" jsonb not null default '{}',
      "updated_at" timestamptz not null default now(),
      constraint "job_status_data_pkey" primary key ("instance", "jid")
    );`);
    // the expiry sweep walks the oldest first
    this.addSql(
      `create index "job_status_data_updated_at_index" on "job_status_data" ("updated_at");`,
    );
  }

  override down(): void {
    this.addSql(`drop table if exists "job_status_data";`);
    this.addSql(`delete from "job_events" where "type" = 'cancelled';`);
    this.addSql(`alter table "job_events" drop constraint "job_events_type_check";`);
    this.addSql(`alter table "job_events" add constraint "job_events_type_check" check ("type" in
      ('scheduled','queued','started','succeeded','failed','retrying','dead','interrupted',
       'restarted'));`);
  }
}
