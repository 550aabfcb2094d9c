import { Migrator } from '@mikro-orm/migrations';
import { defineConfig, type Options } from '@mikro-orm/postgresql';
import { ApiToken } from './auth/api-token.entity.js';
import { Migration20261123000000 } from './database/migrations/Migration20261123000000.js';
import { Migration20261123010000 } from './database/migrations/Migration20261123010000.js';
import { Migration20261123020000 } from './database/migrations/Migration20261123020000.js';
import { Migration20261124000000 } from './database/migrations/Migration20261124000000.js';
import { Migration20261125210000 } from './database/migrations/Migration20261125210000.js';
import { JobEvent } from './jobs/job-event.entity.js';
import { Job } from './jobs/job.entity.js';
import { JobStatusData } from './job-status/job-status-data.entity.js';
import { StatsDaily } from './stats-history/stats-daily.entity.js';
import { StatsSnapshot } from './stats-history/stats-snapshot.entity.js';

// The one MikroORM config, shared by the app (DatabaseModule), the CLI (through
// mikro-orm.config.ts), migrate.ts and the tests. It lives in src/ so the
// build keeps dist/main.js, dist/repl.js and dist/migrate.js at the top of dist/.
export const ENTITIES = [ApiToken, Job, JobEvent, JobStatusData, StatsSnapshot, StatsDaily];

export const MIGRATIONS = [
  { name: 'Migration20261123000000', class: Migration20261123000000 },
  { name: 'Migration20261123010000', class: Migration20261123010000 },
  { name: 'Migration20261123020000', class: Migration20261123020000 },
  { name: 'Migration20261124000000', class: Migration20261124000000 },
  { name: 'Migration20261125210000', class: Migration20261125210000 },
];

export function ormOptions(clientUrl: string, poolMax = 10): Options {
  return defineConfig({
    clientUrl,
    entities: ENTITIES,
    extensions: [Migrator],
    allowGlobalContext: false,
    forceUtcTimezone: true,
    pool: { min: 0, max: poolMax },
    debug: false,
    migrations: {
      migrationsList: MIGRATIONS,
      path: 'dist/database/migrations',
      pathTs: 'src/database/migrations',
      emit: 'ts',
      transactional: true,
      allOrNothing: true,
      snapshot: false,
      silent: true,
    },
  });
}
