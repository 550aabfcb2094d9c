import { EventCursor } from './event-cursor.js';

describe('EventCursor', () => {
  it('advances over new ids and remembers the skipped ones as gaps', () => {
    const sut = new EventCursor(10n);
    sut.advance(['11', '14', '15'], 0);
    expect(sut.highWaterMark).toBe('15');
    expect(sut.openGaps(0)).toEqual(['12', '13']);
  });

  it('forgets a gap once its event is read, and expires the rest', () => {
    const sut = new EventCursor(0n, 1000);
    sut.advance(['3'], 0);
    sut.found(['2']);
    expect(sut.openGaps(500)).toEqual(['1']);
    expect(sut.openGaps(1001)).toEqual([]);
  });

  it('ignores ids at or below the mark and caps the number of gaps', () => {
    const sut = new EventCursor(5n, 30_000, 3);
    sut.advance(['4', '5'], 0);
    expect(sut.highWaterMark).toBe('5');
    sut.advance(['100'], 0);
    expect(sut.highWaterMark).toBe('100');
    expect(sut.openGaps(0)).toEqual(['6', '7', '8']);
  });
});
