import { needleWords, rarestWord } from './job.repository.js';

describe('needleWords', () => {
  it('splits a needle into the runs of letters and digits pg_trgm indexes, 3 or more long', () => {
    expect(needleWords('customer-424242')).toEqual(['customer', '424242']);
    expect(needleWords('{"tenant":"t17"}')).toEqual(['tenant', 't17']);
    expect(needleWords('a-bc-déjà-42-déjà')).toEqual(['déjà']);
    expect(needleWords('--')).toEqual([]);
  });
});

describe('rarestWord', () => {
  it('picks the word with the fewest matches in the sample', () => {
    expect(
      rarestWord([
        { word: 'customer', matches: 1000 },
        { word: '424242', matches: 0 },
      ]),
    ).toBe('424242');
  });

  it('breaks ties by length', () => {
    expect(
      rarestWord([
        { word: 'abc', matches: 0 },
        { word: 'abcdef', matches: 0 },
      ]),
    ).toBe('abcdef');
  });

  it('gives up when every word is equally common, or there is only one word', () => {
    expect(
      rarestWord([
        { word: 'tenant', matches: 40 },
        { word: 'amount', matches: 40 },
      ]),
    ).toBeNull();
    expect(rarestWord([{ word: 'customer', matches: 3 }])).toBeNull();
  });
});
