import { MikroOrmModule } from '@mikro-orm/nestjs';
import { Module } from '@nestjs/common';
import { SidekiqModule } from '../sidekiq/sidekiq.module.js';
import { StatsDaily } from './stats-daily.entity.js';
import { StatsHistoryController } from './stats-history.controller.js';
import { StatsHistoryService } from './stats-history.service.js';
import { StatsSnapshot } from './stats-snapshot.entity.js';

@Module({
  imports: [MikroOrmModule.forFeature([StatsSnapshot, StatsDaily]), SidekiqModule],
  controllers: [StatsHistoryController],
  providers: [StatsHistoryService],
  exports: [StatsHistoryService],
})
export class StatsHistoryModule {}
