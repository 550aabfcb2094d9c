import { Injectable } from '@nestjs/common';
import { LifecycleMetricsService } from './lifecycle-metrics.service.js';
import { MetricsRegistry } from './metrics-registry.js';
import { SidekiqStateService } from './sidekiq-state.service.js';

@Injectable()
export class PrometheusService {
  constructor(
    private readonly metrics: MetricsRegistry,
    private readonly sidekiq: SidekiqStateService,
    private readonly lifecycle: LifecycleMetricsService,
  ) {}

  async scrape(): Promise<string> {
    await Promise.all([this.sidekiq.refresh(), this.lifecycle.poll()]);
    return this.metrics.registry.metrics();
  }
}
