import { Global, Injectable, Module } from '@nestjs/common';

/**
 * The time, injected where a rule depends on it (token expiry, cache lifetimes, failure windows)
 * so that tests move it instead of sleeping against a timer.
 */
@Injectable()
export class Clock {
  /** epoch milliseconds */
  now(): number {
    return Date.now();
  }

  date(): Date {
    return new Date(this.now());
  }
}

@Global()
@Module({ providers: [Clock], exports: [Clock] })
export class ClockModule {}
