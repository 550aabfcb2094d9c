import { Migration } from '@mikro-orm/migrations';

// Redaction (#24): the `sensitive` scope, which lets a token see on the Sidekiq routes the
// arguments and errors the redaction rules hide. Held by no token until one is made with it.
export class Migration20261205020000 extends Migration {
  override up(): void {
    this.addSql(`alter table "api_tokens" drop constraint "api_tokens_scopes_check";`);
    this.addSql(
      `alter table "api_tokens" add constraint "api_tokens_scopes_check" check ("scopes" <@ array['ingest','read','admin','sensitive']::text[] and cardinality("scopes") > 0);`,
    );
  }

  override down(): void {
    // a token holding `sensitive` loses it: the older check knows no such scope
    this.addSql(
      `update "api_tokens" set "scopes" = array_remove("scopes", 'sensitive') where 'sensitive' = any("scopes");`,
    );
    this.addSql(`delete from "api_tokens" where cardinality("scopes") = 0;`);
    this.addSql(`alter table "api_tokens" drop constraint "api_tokens_scopes_check";`);
    this.addSql(
      `alter table "api_tokens" add constraint "api_tokens_scopes_check" check ("scopes" <@ array['ingest','read','admin']::text[] and cardinality("scopes") > 0);`,
    );
  }
}
