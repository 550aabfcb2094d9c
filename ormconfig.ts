import { Migrator } from '@mikro-orm/migrations';
import { defineConfig, type Options } from '@mikro-orm/postgresql';
import { databaseUrlFromEnv } from './src/config/env.schema.js';
import { ApiToken } from './src/auth/api-token.entity.js';
import { Migration20261123000000 } from './src/database/migrations/Migration20261123000000.js';
import { Migration20261123010000 } from './src/database/migrations/Migration20261123010000.js';
import { Migration20261123020000 } from './src/database/migrations/Migration20261123020000.js';
import { Migration20261124000000 } from './src/database/migrations/Migration20261124000000.js';
import { Migration20261125210000 } from './src/database/migrations/Migration20261125210000.js';
import { Migration20261204000000 } from './src/database/migrations/Migration20261204000000.js';
import { Migration20261204100400 } from './src/database/migrations/Migration20261204100400.js';
import { Migration20261204100500 } from './src/database/migrations/Migration20261204100500.js';
import { Migration20261205010000 } from './src/database/migrations/Migration20261205010000.js';
import { Migration20261205040000 } from './src/database/migrations/Migration20261205040000.js';
import { Migration20261205020000 } from './src/database/migrations/Migration20261205020000.js';
import { Migration20261205030000 } from './src/database/migrations/Migration20261205030000.js';
import { Migration20261204100200 } from './src/database/migrations/Migration20261204100200.js';
import { Deploy } from './src/findings/deploys/deploy.entity.js';
import { FailureFingerprintHour } from './src/findings/fingerprints/failure-fingerprint-hour.entity.js';
import { FailureFingerprint } from './src/findings/fingerprints/failure-fingerprint.entity.js';
import { FailureScan } from './src/findings/fingerprints/failure-scan.entity.js';
import { Migration20261204100100 } from './src/database/migrations/Migration20261204100100.js';
import { Finding } from './src/findings/finding.entity.js';
import { JobEvent } from './src/jobs/job-event.entity.js';
import { Job } from './src/jobs/job.entity.js';
import { JobStatusData } from './src/job-status/job-status-data.entity.js';
import { StatsDaily } from './src/stats-history/stats-daily.entity.js';
import { StatsSnapshot } from './src/stats-history/stats-snapshot.entity.js';

// The one MikroORM config: the app (DatabaseModule), migrate.ts, the tests and the MikroORM CLI
// (package.json "mikro-orm".configPaths → dist/ormconfig.js, built beside dist/src/).
export const ENTITIES = [
  ApiToken,
  Job,
  JobEvent,
  JobStatusData,
  StatsSnapshot,
  StatsDaily,
  FailureFingerprint,
  FailureFingerprintHour,
  FailureScan,
  Deploy,
  Finding,
];

export const MIGRATIONS = [
  { name: 'Migration20261123000000', class: Migration20261123000000 },
  { name: 'Migration20261123010000', class: Migration20261123010000 },
  { name: 'Migration20261123020000', class: Migration20261123020000 },
  { name: 'Migration20261124000000', class: Migration20261124000000 },
  { name: 'Migration20261125210000', class: Migration20261125210000 },
  { name: 'Migration20261204000000', class: Migration20261204000000 },
  { name: 'Migration20261204100100', class: Migration20261204100100 },
  { name: 'Migration20261204100200', class: Migration20261204100200 },
  { name: 'Migration20261204100400', class: Migration20261204100400 },
  { name: 'Migration20261204100500', class: Migration20261204100500 },
  { name: 'Migration20261205010000', class: Migration20261205010000 },
  { name: 'Migration20261205020000', class: Migration20261205020000 },
  { name: 'Migration20261205030000', class: Migration20261205030000 },
  { name: 'Migration20261205040000', class: Migration20261205040000 },
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
    // job_events is partitioned (the migrations and EventPartitions make it and its partitions):
    // the schema generator cannot describe that, so it leaves the table alone. The alert tables,
    // the audit log and processes (process lives) are written through SQL only
    schemaGenerator: {
      skipTables: [
        /^job_events(_.*)?$/,
        'alert_notifications',
        'alert_deliveries',
        'audit_log',
        'processes',
      ],
    },
    migrations: {
      migrationsList: MIGRATIONS,
      path: 'dist/src/database/migrations',
      pathTs: 'src/database/migrations',
      emit: 'ts',
      transactional: true,
      allOrNothing: true,
      snapshot: false,
      silent: true,
    },
  });
}

// For the MikroORM CLI only, and STYLE.md's one allowed default export: a factory, so that
// importing this file (the app, the tests) does not read DATABASE_URL.
export default () => ormOptions(databaseUrlFromEnv());
