import { count, span } from './format.js';

describe('detector wording', () => {
  it('writes spans as a sentence needs them', () => {
    expect(span(850)).toBe('850 ms');
    expect(span(2_100)).toBe('2.1 s');
    expect(span(45_400)).toBe('45 s');
    expect(span(725_000)).toBe('12m 05s');
    expect(span((3 * 3600 + 12 * 60 + 30) * 1000)).toBe('3h 12m');
    expect(span((2 * 86_400 + 4 * 3600) * 1000)).toBe('2d 04h');
    expect(count(4210)).toBe('4,210');
  });
});
