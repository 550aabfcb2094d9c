import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';
import { buildOpenApi } from './app.setup.js';
import { sortKeys } from './common/sort-keys.js';
import { fillSpecOnlyEnvironment } from './config/config.module.js';

// Writes openapi/openapi.json with a stable key order; needs no database or Redis (the ORM does
// not connect at boot).
fillSpecOnlyEnvironment();
const app = await NestFactory.create(AppModule, { logger: false, bodyParser: false });
const document = buildOpenApi(app);
writeFileSync(
  process.argv[2] ?? 'openapi/openapi.json',
  JSON.stringify(sortKeys(document), null, 2) + '\n',
);
await app.close();
