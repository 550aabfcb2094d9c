import { Migration } from '@mikro-orm/migrations';

// Token rotation (#24): a rotated token keeps its previous secret's hash until the grace period
// ends, and that hash finds the token as its current one does (unique while it is kept).
export class Migration20261204100500 extends Migration {
  override up(): void {
    this.addSql(`alter table "api_tokens"
      add column "previous_token_hash" text null,
      add column "previous_valid_until" timestamptz null;`);
    this.addSql(`create unique index "api_tokens_previous_token_hash_unique" on "api_tokens"
      ("previous_token_hash") where "previous_token_hash" is not null;`);
  }

  override down(): void {
    this.addSql(`drop index if exists "api_tokens_previous_token_hash_unique";`);
    this.addSql(`alter table "api_tokens"
      drop column "previous_token_hash",
      drop column "previous_valid_until";`);
  }
}
