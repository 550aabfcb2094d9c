import { Module } from '@nestjs/common';
import { SidekiqModule } from '../sidekiq/sidekiq.module.js';
import { StatsHistoryController } from './stats-history.controller.js';
import { StatsHistoryService } from './stats-history.service.js';

@Module({
  imports: [SidekiqModule],
  controllers: [StatsHistoryController],
  providers: [StatsHistoryService],
  exports: [StatsHistoryService],
})
export class StatsHistoryModule {}
