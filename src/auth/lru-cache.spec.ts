import { LruCache } from './lru-cache.js';

describe('LruCache', () => {
  it('never holds more than its capacity and evicts the least recently used entry', () => {
    const sut = new LruCache<string, number>(3);
    sut.set('a', 1);
    sut.set('b', 2);
    sut.set('c', 3);
    expect(sut.get('a')).toBe(1); // a is now the most recent: b is the oldest
    sut.set('d', 4);
    expect(sut.size).toBe(3);
    expect(sut.peek('b')).toBeUndefined();
    expect(sut.keys()).toEqual(['c', 'a', 'd']);
  });

  it('keeps a recently used entry through any number of newer ones', () => {
    const sut = new LruCache<string, string>(100);
    sut.set('valid', 'principal');
    for (let i = 0; i < 20_000; i++) {
      sut.set(`wrong-${i}`, 'x');
      if (i % 50 === 0) {
        sut.get('valid');
      }
    }
    expect(sut.size).toBe(100);
    expect(sut.peek('valid')).toBe('principal');
    // wrong-0 was pushed out long ago; nothing was cleared whole
    expect(sut.peek('wrong-0')).toBeUndefined();
    expect(sut.peek('wrong-19999')).toBe('x');
  });

  it('peek does not refresh; set on an existing key replaces and refreshes it', () => {
    const sut = new LruCache<string, number>(2);
    sut.set('a', 1);
    sut.set('b', 2);
    expect(sut.peek('a')).toBe(1);
    sut.set('c', 3); // a was only peeked: it goes
    expect(sut.keys()).toEqual(['b', 'c']);
    sut.set('b', 20);
    sut.set('d', 4);
    expect(sut.keys()).toEqual(['b', 'd']);
    expect(sut.get('b')).toBe(20);
  });

  it('deletes by predicate and refuses a capacity below 1', () => {
    const sut = new LruCache<string, { id: string }>(10);
    sut.set('h1', { id: 't1' });
    sut.set('h2', { id: 't2' });
    sut.set('h3', { id: 't1' });
    expect(sut.deleteWhere((v) => v.id === 't1')).toBe(2);
    expect(sut.keys()).toEqual(['h2']);
    expect(sut.delete('h2')).toBe(true);
    expect(sut.size).toBe(0);
    expect(() => new LruCache(0)).toThrow(RangeError);
  });
});
