import { Global, Module } from '@nestjs/common';
import { AppConfig } from './app-config.js';
import { validateEnv } from './env.schema.js';

export function loadConfig(raw: Record<string, unknown> = process.env): AppConfig {
  return new AppConfig(validateEnv(raw));
}

/**
 * For writing the OpenAPI spec only: placeholder settings where none are set (only route metadata
 * is read; nothing connects).
 */
export function fillSpecOnlyEnvironment(
  env: Record<string, string | undefined> = process.env,
): void {
  env.DATABASE_URL ??= 'postgresql://openapi@127.0.0.1:1/openapi';
  env.REDIS_URL ??= 'redis://127.0.0.1:1';
  env.PRIVATE_TOKEN ??= 'openapi-generation-only-not-a-real-token';
}

@Global()
@Module({
  providers: [{ provide: AppConfig, useFactory: () => loadConfig() }],
  exports: [AppConfig],
})
export class ConfigModule {}
