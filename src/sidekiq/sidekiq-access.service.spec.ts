import type { AppConfig, SidekiqInstanceConfig } from '../config/app-config.js';
import { SidekiqAccessService, VersionSource } from './sidekiq-access.service.js';
import { DisplayRules } from './payload/job-record.js';
import { BulkOrder } from './payload/sidekiq-version.js';
import type { SidekiqRepository } from './sidekiq.repository.js';
import type { ProcessHash } from './store/process.store.js';
import type { SidekiqStore } from './store/sidekiq.store.js';

function makeStore(sidekiqVersion: string | null) {
  const state = { infos: [] as string[] };
  const instance: SidekiqInstanceConfig = {
    name: 'default',
    url: 'redis://x',
    namespace: null,
    sidekiqVersion,
    schedulerKeyPrefix: null,
  };
  const store = {
    name: instance.name,
    instance,
    processes: {
      identities: () => Promise.resolve(state.infos.map((_, i) => `host:${i}:abc`)),
      hashes: (ids: readonly string[]) =>
        Promise.resolve(
          ids.map((identity, i) => ({ identity, info: state.infos[i] ?? null }) as ProcessHash),
        ),
    },
  } as unknown as SidekiqStore;
  return { store, state };
}

function makeSut(store: SidekiqStore) {
  return new SidekiqAccessService(
    { store: () => store } as unknown as SidekiqRepository,
    {} as AppConfig,
  );
}

describe('SidekiqAccessService.profile', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(1_800_000_000_000);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('follows a live process, then remembers its version once none is alive', async () => {
    const { store, state } = makeStore('8.1.7');
    const sut = makeSut(store);
    state.infos = [JSON.stringify({ hostname: 'h', pid: 1 })]; // 6.x: no version in info
    expect(await sut.profile(store)).toMatchObject({
      version: null,
      source: VersionSource.Process,
      rules: DisplayRules.Legacy,
      bulkOrder: BulkOrder.HighestFirst,
    });
    state.infos = [];
    vi.advanceTimersByTime(31_000); // past the cache
    expect(await sut.profile(store)).toMatchObject({
      version: null,
      source: VersionSource.LastSeen,
      rules: DisplayRules.Legacy,
      bulkOrder: BulkOrder.HighestFirst,
    });
    state.infos = [JSON.stringify({ hostname: 'h', pid: 2, version: '7.3.5' })];
    vi.advanceTimersByTime(31_000);
    expect(await sut.profile(store)).toMatchObject({
      version: '7.3.5',
      rules: DisplayRules.Modern,
      bulkOrder: BulkOrder.LowestFirst,
    });
  });

  it('uses the declared version until a process is seen, and 7.3.5+ behaviour when nothing is known', async () => {
    const declared = makeStore('6.4.1');
    expect(await makeSut(declared.store).profile(declared.store)).toMatchObject({
      version: '6.4.1',
      source: VersionSource.Declared,
      rules: DisplayRules.Legacy,
      bulkOrder: BulkOrder.HighestFirst,
    });
    const unknown = makeStore(null);
    expect(await makeSut(unknown.store).profile(unknown.store)).toMatchObject({
      source: VersionSource.Assumed,
      rules: DisplayRules.Modern,
      bulkOrder: BulkOrder.LowestFirst,
    });
  });

  it('remembers a version seen by the process list', async () => {
    const { store } = makeStore('6.4.1');
    const sut = makeSut(store);
    sut.rememberVersion('default', '7.2.0');
    expect(await sut.profile(store)).toMatchObject({
      version: '7.2.0',
      source: VersionSource.LastSeen,
      rules: DisplayRules.Modern,
      bulkOrder: BulkOrder.HighestFirst,
    });
  });
});
