import { Clock } from '../../src/common/clock.js';

/**
 * The app's Clock, moved by the test: it follows real time plus whatever `advance` added, so a
 * test jumps past a lifetime (token expiry, cache, failure window) instead of sleeping through it.
 */
export class TestClock extends Clock {
  private offsetMs = 0;

  override now(): number {
    return Date.now() + this.offsetMs;
  }

  advance(ms: number): void {
    this.offsetMs += ms;
  }
}
