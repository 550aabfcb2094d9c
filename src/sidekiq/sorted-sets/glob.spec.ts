import { globMatches, scanPattern } from './sorted-sets.service.js';

describe('globMatches (Redis MATCH on what a token is shown)', () => {
  it.each([
    ['*two*', '{"args":[1,"two"]}', true],
    ['*two*', '{"args":[1,"three"]}', false],
    ['*"queue":"a?c"*', '{"queue":"abc"}', true],
    ['abc', 'abc', true],
    ['abc', 'abcd', false],
    ['*\\*x*', 'a*x', true],
    ['*\\*x*', 'ax', false],
    ['*a*b*c*', 'xxaxxbxxcxx', true],
    ['*a*b*c*', 'xxaxxcxxbxx', false],
    ['', '', true],
    ['*', '', true],
  ])('%s on %s: %s', (pattern, text, expected) => {
    expect(globMatches(pattern, text)).toBe(expected);
  });

  it('takes the search as Sidekiq does (a substring unless it holds *)', () => {
    expect(globMatches(scanPattern('hunter2'), '{"password":"[REDACTED]"}')).toBe(false);
    expect(globMatches(scanPattern('REDACTED'), '{"password":"[REDACTED]"}')).toBe(true);
  });
});
