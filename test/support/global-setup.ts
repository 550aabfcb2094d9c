import { MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
import { ormOptions } from '../../ormconfig.js';

// Migrates a template database once per run; each test file clones it (test-context.ts).
export const TEMPLATE_SUFFIX = '_test_template';

export function adminUrl(): string {
  // TestApp points DATABASE_URL at its own clone; the run's database is remembered first
  process.env.TEST_ADMIN_DATABASE_URL ??= process.env.DATABASE_URL;
  const url = process.env.TEST_ADMIN_DATABASE_URL;
  if (!url) {
    throw new Error(
      'DATABASE_URL is not set: run the tests through `npm test` (scripts/services.sh)',
    );
  }
  return url;
}

export function databaseUrl(name: string): string {
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

export function templateName(): string {
  return new URL(adminUrl()).pathname.slice(1) + TEMPLATE_SUFFIX;
}

export default async function setup(): Promise<void> {
  const template = templateName();
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  try {
    await admin.query(`drop database if exists "${template}" with (force)`);
    await admin.query(`create database "${template}"`);
  } finally {
    await admin.end();
  }
  const orm = await MikroORM.init({ ...ormOptions(databaseUrl(template)), debug: false });
  try {
    await orm.getMigrator().up();
  } finally {
    await orm.close(true);
  }
}
