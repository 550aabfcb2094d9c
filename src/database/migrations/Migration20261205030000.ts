import { Migration } from '@mikro-orm/migrations';

// Process heartbeats (#25): one row per Sidekiq process life (Sidekiq's identity,
// hostname:pid:nonce), written from the clients' startup / heartbeat / quiet / shutdown events.
// JobManager joins a running job to the life of its hostname and pid that started before it.
export class Migration20261205030000 extends Migration {
  override up(): void {
    this.addSql(`create table "processes" (
      "instance" text not null,
      "identity" text not null,
      "hostname" text null,
      "pid" int null,
      "tag" text null,
      "sidekiq_version" text null,
      "client_version" text null,
      "concurrency" int null,
      "queues" jsonb null,
      "started_at" timestamptz null,
      "last_heartbeat_at" timestamptz null,
      "quiet_at" timestamptz null,
      "stopped_at" timestamptz null,
      "last_event_at" timestamptz not null,
      "described_at" timestamptz null,
      primary key ("instance", "identity"));`);
    this.addSql(`create index "processes_host_pid_index" on "processes"
      ("instance", "hostname", "pid", "started_at" desc);`);
    this.addSql(`create index "processes_last_event_at_index" on "processes" ("last_event_at");`);
  }

  override down(): void {
    this.addSql(`drop table if exists "processes";`);
  }
}
