import { MikroOrmModule } from '@mikro-orm/nestjs';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';
import { Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { ormOptions } from '../../ormconfig.js';

@Module({
  imports: [
    MikroOrmModule.forRootAsync({
      driver: PostgreSqlDriver,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        ...ormOptions(config.databaseUrl, config.databasePoolMax),
        registerRequestContext: true,
        // boot even when Postgres is down: health says 503 until it is back
        connect: false,
      }),
    }),
  ],
})
export class DatabaseModule {}
