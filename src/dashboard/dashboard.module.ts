import { Module } from '@nestjs/common';
import { DashboardController } from './dashboard.controller.js';

/** Serves the /sidekiq dashboard page (dashboard/ at the project root). */
@Module({ controllers: [DashboardController] })
export class DashboardModule {}
