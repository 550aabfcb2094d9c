import { LruCache } from './lru-cache.js';

export interface FailureLimitOptions {
  /** failed attempts an address may make at once (the bucket's size) */
  readonly limit: number;
  /** the time in which a whole `limit` comes back: one attempt every windowMs / limit */
  readonly windowMs: number;
  /** addresses remembered; the least recently seen is forgotten first */
  readonly addresses: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Failed authentication attempts per client address, as a token bucket: `limit` attempts at once,
 * then one more every `windowMs / limit`. The table is an LRU of `addresses` entries, so a flood
 * from many addresses cannot grow it; a forgotten address starts again with a full bucket, which is
 * what a new address gets anyway. Pure: the caller passes the clock.
 */
export class FailureLimiter {
  private readonly buckets: LruCache<string, Bucket>;
  private readonly perMs: number;

  constructor(private readonly options: FailureLimitOptions) {
    this.buckets = new LruCache(options.addresses);
    this.perMs = options.limit / options.windowMs;
  }

  /**
   * Takes one attempt from the address's allowance: 0 when it may go ahead, else the milliseconds
   * until the next attempt comes back (the allowance is left untouched then).
   */
  take(address: string, now: number): number {
    const bucket = this.refilled(address, now);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.perMs));
  }

  /** Gives back an attempt that turned out not to be a failure (the token was valid). */
  refund(address: string, now: number): void {
    const bucket = this.refilled(address, now);
    bucket.tokens = Math.min(this.options.limit, bucket.tokens + 1);
  }

  /** Milliseconds until the address may try again; 0 when it may now. */
  waitMs(address: string, now: number): number {
    const bucket = this.buckets.peek(address);
    if (!bucket) {
      return 0;
    }
    const tokens = Math.min(this.options.limit, bucket.tokens + (now - bucket.at) * this.perMs);
    return tokens >= 1 ? 0 : Math.max(1, Math.ceil((1 - tokens) / this.perMs));
  }

  get size(): number {
    return this.buckets.size;
  }

  private refilled(address: string, now: number): Bucket {
    let bucket = this.buckets.get(address);
    if (!bucket) {
      bucket = { tokens: this.options.limit, at: now };
      this.buckets.set(address, bucket);
      return bucket;
    }
    // a clock that steps back refills nothing
    const elapsed = Math.max(0, now - bucket.at);
    bucket.tokens = Math.min(this.options.limit, bucket.tokens + elapsed * this.perMs);
    bucket.at = Math.max(bucket.at, now);
    return bucket;
  }
}
