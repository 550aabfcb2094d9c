import { DomainError } from '../../common/errors/domain-error.js';
import { type FlushStats, GroupCommit, type GroupLimits } from './group-commit.js';

/** A commit that answers only when the test says so; events are plain strings here. */
function fakeCommit() {
  const calls: {
    events: string[];
    resolve: (stored: boolean[]) => void;
    reject: (error: unknown) => void;
  }[] = [];
  const commit = (events: string[]) =>
    new Promise<boolean[]>((resolve, reject) => calls.push({ events, resolve, reject }));
  return { calls, commit };
}

/** Lets every settled promise's callbacks run (the group commit pumps from `finally`). */
const settle = () => new Promise((resolve) => setImmediate(resolve));

const events = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

function setup(limits: Partial<GroupLimits> = {}) {
  const fake = fakeCommit();
  const errors: unknown[] = [];
  const sut = new GroupCommit<string>(
    { groupConcurrency: 1, groupMaxEvents: 100, lockBudget: 1000, ...limits },
    fake.commit,
    (error) => errors.push(error),
  );
  return { sut, calls: fake.calls, errors };
}

describe('GroupCommit', () => {
  it('answers an empty write at once, without a transaction', async () => {
    const { sut, calls } = setup();
    await expect(sut.write([])).resolves.toEqual([]);
    expect(calls).toHaveLength(0);
  });

  it('groups the requests queued while a transaction runs into the next one, in order', async () => {
    const { sut, calls } = setup();
    const first = sut.write(['a']);
    const queued = [sut.write(['b']), sut.write(['c', 'd']), sut.write(['e'])];
    expect(calls.map((c) => c.events)).toEqual([['a']]);
    calls[0].resolve([true]);
    await first;
    await settle();
    expect(calls.map((c) => c.events)).toEqual([['a'], ['b', 'c', 'd', 'e']]);
    calls[1].resolve([true, true, true, true]);
    await Promise.all(queued);
    expect(sut.idle).toBe(true);
  });

  it("gives each request its own slice of the group's flags, as duplicates", async () => {
    const { sut, calls } = setup();
    const blocker = sut.write(['x']);
    const answers = [sut.write(['a']), sut.write(['b', 'c']), sut.write(['d'])];
    calls[0].resolve([true]);
    await blocker;
    await settle();
    calls[1].resolve([false, true, false, true]);
    await expect(Promise.all(answers)).resolves.toEqual([[true], [false, true], [false]]);
  });

  it('answers the requests of a group in the order they were made', async () => {
    const { sut, calls } = setup();
    const order: string[] = [];
    const blocker = sut.write(['x']);
    const answers = ['a', 'b', 'c'].map((name) => sut.write([name]).then(() => order.push(name)));
    calls[0].resolve([true]);
    await blocker;
    await settle();
    calls[1].resolve([true, true, true]);
    await Promise.all(answers);
    expect(order).toEqual(['a', 'b', 'c']);
  });

  it('reports each committed group to the flush listeners', async () => {
    const { sut, calls } = setup();
    const stats: FlushStats[] = [];
    sut.onFlush((s) => stats.push(s));
    const blocker = sut.write(['x']);
    const answers = [sut.write(['a', 'b']), sut.write(['c'])];
    calls[0].resolve([true]);
    await blocker;
    await settle();
    calls[1].resolve([true, false, true]);
    await Promise.all(answers);
    expect(stats.map(({ requests, events, inserted }) => ({ requests, events, inserted }))).toEqual(
      [
        { requests: 1, events: 1, inserted: 1 },
        { requests: 2, events: 3, inserted: 2 },
      ],
    );
  });

  it('caps a group at groupMaxEvents but never splits a request', async () => {
    const { sut, calls } = setup({ groupMaxEvents: 4 });
    const blocker = sut.write(['x']);
    const answers = [
      sut.write(events('a', 2)),
      sut.write(events('b', 2)),
      sut.write(events('c', 2)),
      sut.write(events('d', 7)),
    ];
    calls[0].resolve([true]);
    await blocker;
    for (const size of [4, 2, 7]) {
      await settle();
      const call = calls.at(-1)!;
      expect(call.events).toHaveLength(size);
      call.resolve(call.events.map(() => true));
    }
    await Promise.all(answers);
    expect(calls.map((c) => c.events.length)).toEqual([1, 4, 2, 7]);
  });

  it('runs groupConcurrency transactions at once, each with its share of the lock budget', async () => {
    // share = 8 / 2 = 4 events per group, below groupMaxEvents
    const { sut, calls } = setup({ groupConcurrency: 2, groupMaxEvents: 10, lockBudget: 8 });
    const running = [sut.write(['x']), sut.write(['y'])];
    const queued = [
      sut.write(events('a', 2)),
      sut.write(events('b', 2)),
      sut.write(events('c', 2)),
    ];
    expect(calls.map((c) => c.events)).toEqual([['x'], ['y']]);
    calls[0].resolve([true]);
    await running[0];
    await settle();
    // 6 events are queued and 7 of the budget free, but a group takes its share: a and b
    expect(calls.map((c) => c.events.length)).toEqual([1, 1, 4]);
    calls[1].resolve([true]);
    await running[1];
    await settle();
    expect(calls.map((c) => c.events.length)).toEqual([1, 1, 4, 2]);
    calls[2].resolve([true, true, true, true]);
    calls[3].resolve([true, true]);
    await Promise.all(queued);
  });

  it('holds a request back while the running groups leave too little of the lock budget', async () => {
    const { sut, calls } = setup({ groupConcurrency: 2, groupMaxEvents: 100, lockBudget: 4 });
    const first = sut.write(events('a', 2));
    const big = sut.write(events('b', 3)); // 2 + 3 > 4, though a connection is free
    expect(calls).toHaveLength(1);
    calls[0].resolve([true, true]);
    await first;
    await settle();
    expect(calls.map((c) => c.events.length)).toEqual([2, 3]);
    calls[1].resolve([true, true, true]);
    await big;
  });

  it('runs a request larger than the whole lock budget once nothing else runs', async () => {
    const { sut, calls } = setup({ groupConcurrency: 2, groupMaxEvents: 100, lockBudget: 4 });
    const small = sut.write(['a']);
    const huge = sut.write(events('h', 9));
    await settle();
    expect(calls).toHaveLength(1);
    calls[0].resolve([true]);
    await small;
    await settle();
    expect(calls[1].events).toHaveLength(9);
    calls[1].resolve(calls[1].events.map(() => false));
    await expect(huge).resolves.toEqual(events('h', 9).map(() => true));
  });

  it('after a failed group, writes each request on its own so only the faulty one fails', async () => {
    const { sut, calls, errors } = setup();
    const blocker = sut.write(['x']);
    const good1 = sut.write(['a']);
    const bad = sut.write(['bad']);
    const good2 = sut.write(['b', 'c']);
    calls[0].resolve([true]);
    await blocker;
    await settle();
    const failure = new Error('invalid input syntax');
    calls[1].reject(failure);
    await settle();
    expect(calls.slice(2).map((c) => c.events)).toEqual([['a'], ['bad'], ['b', 'c']]);
    calls[2].resolve([true]);
    calls[3].reject(failure);
    calls[4].resolve([true, false]);
    await expect(good1).resolves.toEqual([false]);
    await expect(bad).rejects.toBe(failure);
    await expect(good2).resolves.toEqual([false, true]);
    expect(errors).toEqual([failure]);
    await settle();
    expect(sut.idle).toBe(true);
  });

  it('fails a whole group at once, as DATABASE_UNAVAILABLE, when the database is gone', async () => {
    const { sut, calls, errors } = setup();
    const blocker = sut.write(['x']);
    const answers = [sut.write(['a']), sut.write(['b'])];
    calls[0].resolve([true]);
    await blocker;
    await settle();
    calls[1].reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    for (const answer of answers) {
      const error: unknown = await answer.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DomainError);
      expect((error as DomainError).code).toBe('DATABASE_UNAVAILABLE');
    }
    expect(calls).toHaveLength(2); // no retry per request
    expect(errors).toEqual([]); // an outage is not logged as an error
  });

  it('is idle only when nothing is queued or running', async () => {
    const { sut, calls } = setup();
    expect(sut.idle).toBe(true);
    const first = sut.write(['a']);
    const second = sut.write(['b']);
    expect(sut.idle).toBe(false);
    calls[0].resolve([true]);
    await first;
    await settle();
    expect(sut.idle).toBe(false);
    calls[1].resolve([true]);
    await second;
    await settle();
    expect(sut.idle).toBe(true);
  });
});
