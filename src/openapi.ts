import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';
import { buildOpenApi } from './app.setup.js';
import { sortKeys } from './common/sort-keys.js';

// Writes openapi/openapi.json with a stable key order; needs no database or Redis (the ORM does
// not connect at boot). Dummy settings: only route metadata is read.
process.env.DATABASE_URL ??= 'postgresql://openapi@127.0.0.1:1/openapi';
process.env.REDIS_URL ??= 'redis://127.0.0.1:1';
process.env.PRIVATE_TOKEN ??= 'openapi-generation-only-not-a-real-token';
const app = await NestFactory.create(AppModule, { logger: false, bodyParser: false });
const document = buildOpenApi(app);
writeFileSync(
  process.argv[2] ?? 'openapi/openapi.json',
  JSON.stringify(sortKeys(document), null, 2) + '\n',
);
await app.close();
