import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { AppConfig } from '../config/app-config.js';
import { RedisRegistry, whenReady } from '../redis/redis.module.js';
import { withTimeout } from './with-timeout.js';

@Injectable()
export class RedisHealthIndicator {
  constructor(
    private readonly registry: RedisRegistry,
    private readonly indicators: HealthIndicatorService,
    private readonly config: AppConfig,
  ) {}

  /** One result per Sidekiq instance, keyed `redis:<instance>`. */
  checks() {
    return this.registry.all().map(({ instance, redis }) => async () => {
      const indicator = this.indicators.check(`redis:${instance.name}`);
      const started = performance.now();
      try {
        const ms = this.config.healthTimeoutMs;
        const ping = async () => {
          // a connection attempt under way (e.g. at start-up) is waited for; a down one fails at once
          await whenReady(redis, ms);
          return redis.ping();
        };
        await withTimeout(ping(), ms, `Redis (${instance.name})`);
        return indicator.up({ latency_ms: Math.round(performance.now() - started) });
      } catch (error) {
        return indicator.down({ message: (error as Error).message });
      }
    });
  }
}
