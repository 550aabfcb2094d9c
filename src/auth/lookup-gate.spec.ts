import { LookupGate } from './lookup-gate.js';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('LookupGate', () => {
  it('runs at most `concurrency` tasks at once, queues up to the limit, refuses the rest', async () => {
    const sut = new LookupGate(2, 1);
    const gates = [deferred(), deferred(), deferred()];
    let peak = 0;
    let now = 0;
    const task = (i: number) => async () => {
      now++;
      peak = Math.max(peak, now);
      await gates[i].promise;
      now--;
      return i;
    };
    const a = sut.run(task(0));
    const b = sut.run(task(1));
    const c = sut.run(task(2));
    expect(await sut.run(task(2))).toBeNull(); // slots and queue full
    expect(sut.active).toBe(2);
    expect(sut.queued).toBe(1);
    gates[0].resolve();
    expect(await a).toBe(0);
    gates[1].resolve();
    gates[2].resolve();
    expect(await Promise.all([b, c])).toEqual([1, 2]);
    expect(peak).toBe(2);
    expect(sut.active).toBe(0);
    expect(sut.queued).toBe(0);
  });

  it('frees its slot when a task fails', async () => {
    const sut = new LookupGate(1, 0);
    await expect(sut.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await sut.run(() => Promise.resolve('ok'))).toBe('ok');
  });
});
