import { MikroORM } from '@mikro-orm/postgresql';
import { ormOptions } from '../../../ormconfig.js';
import { TestDatabase } from '../../support/test-context.js';

// `npm run db:migration:create` diffs the entities against the database: on a database the
// migrations made, it must find nothing to do, else a reviewer is handed a migration that drops
// tables or hand-made indexes the entities do not describe.
describe('entities and migrations describe the same schema', () => {
  let db: TestDatabase;
  let orm: MikroORM;

  beforeAll(async () => {
    db = await TestDatabase.create();
    orm = await MikroORM.init(ormOptions(db.url));
  });

  afterAll(async () => {
    await orm?.close(true);
    await db?.drop();
  });

  it('proposes no migration on a freshly migrated database', async () => {
    const diff = await orm.getSchemaGenerator().getUpdateSchemaMigrationSQL({ wrap: false });
    expect(diff.up.trim()).toBe('');
    expect(diff.down.trim()).toBe('');
    expect(await orm.getMigrator().checkMigrationNeeded()).toBe(false);
  });

  it('knows the hand-made indexes and checks: one missing is proposed again, as the migration made it', async () => {
    await db.sql.query('drop index "jobs_search_index"');
    await db.sql.query('drop index "job_status_data_updated_at_index"');
    await db.sql.query('alter table "api_tokens" drop constraint "api_tokens_scopes_check"');
    try {
      const { up } = await orm.getSchemaGenerator().getUpdateSchemaMigrationSQL({ wrap: false });
      const statements = up
        .split(';')
        .map((s) => s.replace(/\s+/g, ' ').trim())
        .filter(Boolean);
      expect(statements).toEqual([
        `alter table "api_tokens" add constraint api_tokens_scopes_check check(scopes <@ array['ingest','read','admin','sensitive']::text[] and cardinality(scopes) > 0)`,
        `create index "jobs_search_index" on "jobs" using gin ("job_class", "queue", "status", "arguments" gin_trgm_ops) with (fastupdate = on, gin_pending_list_limit = 256)`,
        `create index "job_status_data_updated_at_index" on "job_status_data" ("updated_at")`,
      ]);
    } finally {
      await db.sql.query(
        'create index "jobs_search_index" on "jobs" using gin ("job_class", "queue", "status", "arguments" gin_trgm_ops) with (fastupdate = on, gin_pending_list_limit = 256)',
      );
      await db.sql.query(
        'create index "job_status_data_updated_at_index" on "job_status_data" ("updated_at")',
      );
      await db.sql.query(
        `alter table "api_tokens" add constraint "api_tokens_scopes_check" check ("scopes" <@ array['ingest','read','admin','sensitive']::text[] and cardinality("scopes") > 0)`,
      );
    }
    expect(await orm.getMigrator().checkMigrationNeeded()).toBe(false);
  });
});
