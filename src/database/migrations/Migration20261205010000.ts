import { Migration } from '@mikro-orm/migrations';

// The audit log (#24): one record per change made through the service, written (outcome
// 'pending') before the change and finished with its outcome after. Append-only in the database
// itself, whatever the code does: a trigger refuses every UPDATE but a pending record's one
// finishing (outcome, result, error, finished_at), every DELETE but the retention job's (which sets
// supervisor.audit_retention for its transaction), and TRUNCATE.
export class Migration20261205010000 extends Migration {
  override up(): void {
    this.addSql(`create table "audit_log" (
      "id" bigserial primary key,
      "at" timestamptz not null default now(),
      "actor_kind" text not null check ("actor_kind" in ('token', 'bootstrap', 'repl')),
      "token_id" uuid null,
      "token_name" text null,
      "os_user" text null,
      "client_address" text null,
      "user_agent" text null,
      "action" text not null,
      "route" text null,
      "instance" text null,
      "targets" jsonb not null default '{}',
      "options" jsonb not null default '{}',
      "outcome" text not null default 'pending' check ("outcome" in ('pending', 'ok', 'error')),
      "result" jsonb null,
      "error" jsonb null,
      "finished_at" timestamptz null
    );`);
    this.addSql(`create index "audit_log_at_index" on "audit_log" ("at", "id");`);
    this.addSql(`create index "audit_log_action_index" on "audit_log" ("action", "id");`);
    this.addSql(`create index "audit_log_token_id_index" on "audit_log" ("token_id", "id");`);
    this.addSql(`create index "audit_log_token_name_index" on "audit_log" ("token_name", "id");`);
    this.addSql(`create index "audit_log_actor_kind_index" on "audit_log" ("actor_kind", "id");`);
    this.addSql(
      `create index "audit_log_targets_index" on "audit_log" using gin ("targets" jsonb_path_ops);`,
    );
    // the jids a change's outcome names (a restart's pushes): a job's actions look in both
    this.addSql(
      `create index "audit_log_result_index" on "audit_log" using gin ("result" jsonb_path_ops);`,
    );
    this.addSql(`create function "audit_log_append_only"() returns trigger language plpgsql as $$
      begin
        if tg_op = 'DELETE' then
          if current_setting('supervisor.audit_retention', true) = 'on' then
            return old;
          end if;
          raise exception 'audit_log is append-only: records are deleted by retention only'
            using errcode = '42501';
        end if;
        if tg_op = 'TRUNCATE' then
          raise exception 'audit_log is append-only: it cannot be truncated' using errcode = '42501';
        end if;
        if old.outcome <> 'pending' or new.outcome = 'pending'
          or (to_jsonb(new) - '{outcome,result,error,finished_at}'::text[])
            is distinct from (to_jsonb(old) - '{outcome,result,error,finished_at}'::text[]) then
          raise exception 'audit_log is append-only: only a pending record''s outcome is written, once'
            using errcode = '42501';
        end if;
        return new;
      end $$;`);
    this.addSql(`create trigger "audit_log_append_only" before update or delete on "audit_log"
      for each row execute function "audit_log_append_only"();`);
    this.addSql(`create trigger "audit_log_no_truncate" before truncate on "audit_log"
      for each statement execute function "audit_log_append_only"();`);
  }

  override down(): void {
    this.addSql(`drop table if exists "audit_log";`);
    this.addSql(`drop function if exists "audit_log_append_only"();`);
  }
}
