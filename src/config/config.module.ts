import { Global, Module } from '@nestjs/common';
import { AppConfig } from './app-config.js';
import { validateEnv } from './env.schema.js';

export function loadConfig(raw: Record<string, unknown> = process.env): AppConfig {
  return new AppConfig(validateEnv(raw));
}

@Global()
@Module({
  providers: [{ provide: AppConfig, useFactory: () => loadConfig() }],
  exports: [AppConfig],
})
export class ConfigModule {}
