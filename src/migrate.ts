import 'reflect-metadata';
import { MikroORM } from '@mikro-orm/postgresql';
import { databaseUrlFromEnv } from './config/env.schema.js';
import { ormOptions } from '../ormconfig.js';

// One-shot: applies pending migrations and exits (run before a rollout, not on app start).
const orm = await MikroORM.init(ormOptions(databaseUrlFromEnv()));
try {
  const applied = await orm.getMigrator().up();
  process.stdout.write(
    applied.length > 0
      ? `applied ${applied.length} migration(s): ${applied.map((m) => m.name).join(', ')}\n`
      : 'database is up to date\n',
  );
} finally {
  await orm.close(true);
}
