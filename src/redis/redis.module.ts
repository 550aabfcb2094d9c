import { Global, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { Redis, type RedisOptions } from 'ioredis';
import { AppConfig, type SidekiqInstanceConfig } from '../config/app-config.js';
import { DomainError } from '../common/errors/domain-error.js';

export interface SidekiqConnection {
  readonly instance: SidekiqInstanceConfig;
  /** Reads: each command gives up after SIDEKIQ_REDIS_TIMEOUT_MS. */
  readonly redis: Redis;
  /**
   * Writes, on their own connection: a write already sent is awaited up to
   * SIDEKIQ_REDIS_WRITE_TIMEOUT_MS, because Redis may still run a command the client gave up on.
   */
  readonly writer: Redis;
  /** How long a command waits for a connection attempt under way (SIDEKIQ_REDIS_TIMEOUT_MS). */
  readonly timeoutMs: number;
}

/** Redis is unreachable and the command was not sent (so it can never run later). */
export class RedisNotReadyError extends Error {
  override readonly name = 'RedisNotReadyError';
}

const CONNECTING = new Set(['wait', 'connecting', 'connect']);

/**
 * Resolves once `redis` can take commands. A connection attempt under way (the first one, or a
 * reconnect that may succeed at once) is waited for up to `ms`; a connection that is down and
 * waiting to retry in the background fails at once.
 */
export async function whenReady(redis: Redis, ms: number): Promise<void> {
  if (redis.status === 'ready') {
    return;
  }
  if (!CONNECTING.has(redis.status)) {
    throw new RedisNotReadyError(`not connected (${redis.status})`);
  }
  await new Promise<void>((resolve, reject) => {
    const done = (error?: Error) => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      redis.off('close', onClose);
      if (error) {
        reject(error);
      } else {
        resolve();
      }
    };
    const onReady = () => done();
    const onClose = () => done(new RedisNotReadyError('connection attempt failed'));
    const timer = setTimeout(
      () => done(new RedisNotReadyError(`no connection within ${ms} ms`)),
      ms,
    );
    redis.once('ready', onReady);
    redis.once('close', onClose);
  });
}

/** True when a command was abandoned by ioredis's `commandTimeout` (Redis may still run it). */
export function isCommandTimeout(error: unknown): boolean {
  return error instanceof Error && error.message === 'Command timed out';
}

/** True when a command failed before it was sent. */
export function wasNotSent(error: unknown): boolean {
  return (
    error instanceof RedisNotReadyError ||
    (error instanceof Error && error.message.startsWith("Stream isn't writeable"))
  );
}

/** Two ioredis clients (reads, writes) per configured Sidekiq instance, created lazily, quit on shutdown. */
@Injectable()
export class RedisRegistry implements OnApplicationShutdown {
  private readonly connections = new Map<string, SidekiqConnection>();

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
    let connection = this.connections.get(instance.name);
    if (!connection) {
      const { timeoutMs, writeTimeoutMs } = this.config.sidekiqRedis;
      connection = {
        instance,
        redis: this.client(instance.url, timeoutMs),
        writer: this.client(instance.url, writeTimeoutMs),
        timeoutMs,
      };
      this.connections.set(instance.name, connection);
    }
    return connection;
  }

  all(): SidekiqConnection[] {
    return this.instanceNames.map((name) => this.connection(name));
  }

  private client(url: string, commandTimeout: number): Redis {
    const options: RedisOptions = {
      // Fail fast while Redis is down (503) and reconnect in the background. Nothing is queued for
      // later: a command that cannot be sent fails at once, and one in flight when the connection
      // drops fails then and is not sent again after the reconnect — a change answered with 503
      // never happens behind the caller's back.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      commandTimeout,
      connectTimeout: this.config.sidekiqRedis.timeoutMs,
      lazyConnect: false,
      retryStrategy: (times) => Math.min(times * 100, 1000),
    };
    const redis = new Redis(url, options);
    // errors surface per command; the connection itself retries quietly
    redis.on('error', () => undefined);
    return redis;
  }

  async onApplicationShutdown(): Promise<void> {
    const clients = [...this.connections.values()].flatMap((c) => [c.redis, c.writer]);
    await Promise.all(
      clients.map(async (client) => {
        try {
          if (client.status === 'ready') {
            await client.quit();
          } else {
            client.disconnect();
          }
        } catch {
          client.disconnect();
        }
      }),
    );
    this.connections.clear();
  }
}

@Global()
@Module({ providers: [RedisRegistry], exports: [RedisRegistry] })
export class RedisModule {}
