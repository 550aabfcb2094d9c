import { Injectable } from '@nestjs/common';
import { RedisRegistry } from '../redis/redis.module.js';
import { SidekiqStore } from './store/sidekiq.store.js';

/** Hands out a SidekiqStore per configured instance (404 INSTANCE_NOT_FOUND for an unknown one). */
@Injectable()
export class SidekiqRepository {
  constructor(private readonly registry: RedisRegistry) {}

  store(instance?: string): SidekiqStore {
    return new SidekiqStore(this.registry.connection(instance));
  }

  instanceNames(): string[] {
    return this.registry.instanceNames;
  }
}
