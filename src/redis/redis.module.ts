import { Global, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import { AppConfig, type SidekiqInstanceConfig } from '../config/app-config.js';
import { DomainError } from '../common/errors/domain-error.js';

export interface SidekiqConnection {
  readonly instance: SidekiqInstanceConfig;
  readonly redis: Redis;
}

/** One ioredis client per configured Sidekiq instance, created lazily, quit on shutdown. */
@Injectable()
export class RedisRegistry implements OnApplicationShutdown {
  private readonly clients = new Map<string, Redis>();

  constructor(private readonly config: AppConfig) {}

  get instanceNames(): string[] {
    return this.config.sidekiqInstances.map((i) => i.name);
  }

  /** Throws INSTANCE_NOT_FOUND for a name that is not configured. */
  connection(name?: string): SidekiqConnection {
    const instance = name
      ? this.config.sidekiqInstances.find((i) => i.name === name)
      : this.config.sidekiqInstances[0];
    if (!instance) {
      throw new DomainError('INSTANCE_NOT_FOUND', `Unknown Sidekiq instance "${name}"`, {
        field: 'instance',
        known: this.instanceNames,
      });
    }
    let redis = this.clients.get(instance.name);
    if (!redis) {
      redis = new Redis(instance.url, {
        // fail fast while Redis is down (503), reconnect in the background
        maxRetriesPerRequest: 1,
        enableOfflineQueue: true,
        connectTimeout: 2000,
        lazyConnect: false,
        retryStrategy: (times) => Math.min(times * 200, 2000),
      });
      // errors surface per command; the connection itself retries quietly
      redis.on('error', () => undefined);
      this.clients.set(instance.name, redis);
    }
    return { instance, redis };
  }

  all(): SidekiqConnection[] {
    return this.instanceNames.map((name) => this.connection(name));
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(
      [...this.clients.values()].map(async (client) => {
        try {
          await client.quit();
        } catch {
          client.disconnect();
        }
      }),
    );
    this.clients.clear();
  }
}

@Global()
@Module({ providers: [RedisRegistry], exports: [RedisRegistry] })
export class RedisModule {}
