import { Injectable } from '@nestjs/common';
import { DomainError } from '../../common/errors/domain-error.js';
import { AppConfig } from '../../config/app-config.js';
import { redactJobDto, SidekiqJobDto, SidekiqSetEntryDto } from '../dto/sidekiq-job.dto.js';
import { SidekiqAccessService } from '../sidekiq-access.service.js';
import { SidekiqSetName } from '../sidekiq-keys.js';
import { decodeJob, decodeMember } from '../payload/job-record.js';
import { buildRepush } from '../payload/payload-edit.js';
import { BulkOrder } from '../payload/sidekiq-version.js';
import type { RawEntry } from '../store/base.store.js';
import type { SidekiqStore } from '../store/sidekiq.store.js';
import type { MoveToQueue, PageEntry } from '../store/sorted-set.store.js';
import { DEFAULT_PER_PAGE, nowSeconds } from '../queues/queues.service.js';
import {
  type BulkResultDto,
  type SetPageDto,
  type SetSizeDto,
  SortDirection,
} from './dto/sorted-set.dto.js';

const SEARCH_LIMIT = 10_000;
const BATCH = 100;
/** JobSet#each's page size (≤ 7.3.4), which retry_all / kill_all go through. */
const RUBY_PAGE = 50;
/** Successive deaths in one kill-all get distinct, increasing scores, as Time.now does in Ruby. */
const DEATH_STEP = 1e-6;

/** The keys of SetPageQueryDto (the controller passes the query as is). */
export interface PageOptions {
  readonly page?: number;
  readonly per_page?: number;
  readonly direction?: SortDirection;
  readonly search?: string;
}

/** Sidekiq::Web's order per set: soonest first for scheduled and retry, latest death first for dead. */
function defaultDirection(set: SidekiqSetName): SortDirection {
  return set === SidekiqSetName.Dead ? SortDirection.Desc : SortDirection.Asc;
}

/** JobSet#scan's pattern: `*substr*` unless it already contains `*`. */
export function scanPattern(search: string): string {
  return search.includes('*') ? search : `*${search}*`;
}

/**
 * Redis's glob match (`*`, `?`, `\\x`; a `[` is taken as itself), the classic two-pointer walk
 * that backs up to the last `*` only: O(text × pattern) at worst, never exponential.
 */
export function globMatches(pattern: string, text: string): boolean {
  const tokens: { any: boolean; one: boolean; ch: string }[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\' && i + 1 < pattern.length) {
      tokens.push({ any: false, one: false, ch: pattern[++i]! });
    } else {
      tokens.push({ any: c === '*', one: c === '?', ch: c });
    }
  }
  let t = 0;
  let p = 0;
  let star = -1;
  let mark = 0;
  while (t < text.length) {
    const token = tokens[p];
    if (token && !token.any && (token.one || token.ch === text[t])) {
      t++;
      p++;
    } else if (token?.any) {
      star = p++;
      mark = t;
    } else if (star >= 0) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (tokens[p]?.any) {
    p++;
  }
  return p === tokens.length;
}

/** Sidekiq::ScheduledSet, RetrySet and DeadSet (SortedEntry actions, retry/kill/delete all). */
@Injectable()
export class SortedSetsService {
  constructor(
    private readonly access: SidekiqAccessService,
    private readonly config: AppConfig,
  ) {}

  async size(instance: string | undefined, set: SidekiqSetName): Promise<SetSizeDto> {
    return { set, size: await this.access.readable(instance).sets.size(set) };
  }

  /** A page ordered by score; with `search`, the ZSCAN matches ordered by score, then paged. */
  async page(
    instance: string | undefined,
    set: SidekiqSetName,
    options: PageOptions = {},
    sensitive = true,
  ): Promise<SetPageDto> {
    const store = this.access.readable(instance);
    const page = options.page ?? 1;
    const perPage = options.per_page ?? DEFAULT_PER_PAGE;
    const direction = options.direction ?? defaultDirection(set);
    const descending = direction === SortDirection.Desc;
    const start = (page - 1) * perPage;
    let size: number;
    let entries: PageEntry[];
    let truncated = false;
    const rules = await this.access.displayRules(store);
    const now = nowSeconds();
    if (options.search !== undefined) {
      const pattern = scanPattern(options.search);
      const result = await store.sets.scan(set, pattern, SEARCH_LIMIT);
      // a token without `sensitive` finds an entry only by what it is shown: a search for a
      // redacted secret finds nothing (nor counts it)
      const found = sensitive
        ? result.entries
        : result.entries.filter((e) => {
            const shown = SidekiqJobDto.from(decodeMember(e.raw, rules), now);
            redactJobDto(shown, this.config.redactor);
            return globMatches(pattern, shown.raw);
          });
      const sorted = [...found].sort((a, b) =>
        a.score === b.score ? (a.raw < b.raw ? -1 : 1) : a.score - b.score,
      );
      if (descending) {
        sorted.reverse();
      }
      size = sorted.length;
      truncated = result.truncated;
      entries = sorted
        .slice(start, start + perPage)
        .map((e) => ({ member: e.raw, score: e.score }));
    } else {
      ({ size, entries } = await store.sets.page(set, start, start + perPage - 1, descending));
    }
    return {
      set,
      size,
      page,
      per_page: perPage,
      direction,
      search: options.search ?? null,
      truncated,
      entries: entries.map((e) =>
        SidekiqSetEntryDto.fromEntry(decodeMember(e.member, rules), e.score, now),
      ),
    };
  }

  /** JobSet#find_job (ZSCAN MATCH *jid*). */
  async find(
    instance: string | undefined,
    set: SidekiqSetName,
    jid: string,
    score?: number,
  ): Promise<SidekiqSetEntryDto> {
    const store = this.access.readable(instance);
    const entry = await this.findEntry(store, set, jid, score);
    return SidekiqSetEntryDto.fromEntry(
      decodeJob(entry.raw, await this.access.displayRules(store)),
      entry.score,
      nowSeconds(),
    );
  }

  /** The name an instance parameter resolves to (the default instance when absent). */
  instanceName(instance: string | undefined): string {
    return this.access.readable(instance).instance.name;
  }

  /**
   * Takes a job out of the scheduled set (sidekiq-status's cancel / unschedule), then runs
   * `record` with the entry and the payload text as it was stored. Should `record` fail, the
   * entry goes back (same member, same score) and the error is rethrown: all or nothing.
   */
  async unschedule<T>(
    instance: string | undefined,
    jid: string,
    record: (removed: { entry: SidekiqSetEntryDto; raw: string }) => Promise<T>,
  ): Promise<T> {
    const store = this.access.writable(instance);
    const found = await this.findEntry(store, SidekiqSetName.Scheduled, jid);
    if ((await store.sets.remove(SidekiqSetName.Scheduled, found.raw)) === 0) {
      throw this.notFound(SidekiqSetName.Scheduled, jid);
    }
    const entry = SidekiqSetEntryDto.fromEntry(decodeJob(found.raw), found.score, nowSeconds());
    try {
      return await record({ entry, raw: found.raw });
    } catch (error) {
      await store.sets.add(SidekiqSetName.Scheduled, found.score, found.raw);
      throw error;
    }
  }

  /** SortedEntry#delete: ZREM the exact member. */
  async delete(
    instance: string | undefined,
    set: SidekiqSetName,
    jid: string,
    score?: number,
  ): Promise<SidekiqSetEntryDto> {
    return (await this.remove(instance, set, jid, score)).entry;
  }

  private async remove(
    instance: string | undefined,
    set: SidekiqSetName,
    jid: string,
    score?: number,
  ): Promise<{ entry: SidekiqSetEntryDto; raw: string }> {
    const store = this.access.writable(instance);
    const entry = await this.findEntry(store, set, jid, score);
    if ((await store.sets.remove(set, entry.raw)) === 0) {
      throw this.notFound(set, jid);
    }
    return {
      entry: SidekiqSetEntryDto.fromEntry(decodeJob(entry.raw), entry.score, nowSeconds()),
      raw: entry.raw,
    };
  }

  /**
   * SortedEntry#retry (`retry_count − 1`, then pushed to its queue) or, with `decrement` false,
   * SortedEntry#add_to_queue (what the Web's scheduled page does).
   */
  async retry(
    instance: string | undefined,
    set: SidekiqSetName,
    jid: string,
    decrement: boolean,
    score?: number,
  ): Promise<SidekiqSetEntryDto> {
    const store = this.access.writable(instance);
    const entry = await this.findEntry(store, set, jid, score);
    const move = this.repush(entry, decrement);
    if (move === null) {
      throw new DomainError(
        'SIDEKIQ_OPERATION_NOT_ALLOWED',
        `Job ${jid} has an undecodable payload and cannot be re-enqueued; delete it instead`,
        { field: 'jid' },
      );
    }
    if ((await store.sets.moveToQueue(set, [move])) === 0) {
      throw this.notFound(set, jid);
    }
    return SidekiqSetEntryDto.fromEntry(decodeJob(move.payload), entry.score, nowSeconds());
  }

  /** SortedEntry#kill: the exact member into `dead` (score = now), then the dead-set trims. */
  async kill(
    instance: string | undefined,
    set: SidekiqSetName,
    jid: string,
    score?: number,
  ): Promise<SidekiqSetEntryDto> {
    const store = this.access.writable(instance);
    const entry = await this.findEntry(store, set, jid, score);
    const now = nowSeconds();
    const death = { raw: entry.raw, diedAt: now };
    if ((await store.sets.kill(set, [death], this.access.deadSetLimits)) === 0) {
      throw this.notFound(set, jid);
    }
    return SidekiqSetEntryDto.fromEntry(decodeJob(entry.raw), now, now);
  }

  /**
   * retry_all: every entry re-enqueued (`retry_count − 1`; for the scheduled set, added to its
   * queue as is, like 8.0.9+'s "add all to queue"), in atomic batches, in the order of the
   * instance's Sidekiq (see eachForBulk). Entries with an undecodable payload are left in place
   * and counted as skipped.
   */
  async retryAll(instance: string | undefined, set: SidekiqSetName): Promise<BulkResultDto> {
    const store = this.access.writable(instance);
    const decrement = set !== SidekiqSetName.Scheduled;
    const skipped = new Set<string>();
    let affected = 0;
    await this.eachForBulk(store, set, skipped, async (entries) => {
      const moves: MoveToQueue[] = [];
      for (const entry of entries) {
        const move = this.repush(entry, decrement);
        if (move === null) {
          skipped.add(entry.raw);
        } else {
          moves.push(move);
        }
      }
      affected += await store.sets.moveToQueue(set, moves);
    });
    return { affected, skipped: skipped.size };
  }

  /**
   * kill_all: every entry moved into `dead`, in the order of the instance's Sidekiq, each with
   * its own time of death (so the dead set orders them as Sidekiq would); one trim per batch.
   * Not for the dead set itself.
   */
  async killAll(instance: string | undefined, set: SidekiqSetName): Promise<BulkResultDto> {
    if (set === SidekiqSetName.Dead) {
      throw new DomainError(
        'SIDEKIQ_OPERATION_NOT_ALLOWED',
        'Entries of the dead set are already dead',
        {
          field: 'set',
        },
      );
    }
    const store = this.access.writable(instance);
    let affected = 0;
    let last = 0;
    await this.eachForBulk(store, set, new Set(), async (entries) => {
      const deaths = entries.map((e) => {
        last = Math.max(nowSeconds(), last + DEATH_STEP);
        return { raw: e.raw, diedAt: last };
      });
      affected += await store.sets.kill(set, deaths, this.access.deadSetLimits);
    });
    return { affected, skipped: 0 };
  }

  /**
   * Hands `handle` the entries of a set in the order the instance's Sidekiq takes them in
   * retry_all / kill_all, until the set is empty but for `skipped` (or nothing moves any more).
   * 7.3.5+ (and an unknown version): ZPOPMIN, lowest score first. ≤ 7.3.4: `each(&:op) while
   * size > 0`, where JobSet#each reads pages of 50 from the highest score down (each page highest
   * first) at offsets fixed when the pass began, so that a pass over a shrinking set takes every
   * other page; the passes repeat until the set is empty.
   */
  private async eachForBulk(
    store: SidekiqStore,
    set: SidekiqSetName,
    skipped: ReadonlySet<string>,
    handle: (entries: RawEntry[]) => Promise<void>,
  ): Promise<void> {
    const { bulkOrder } = await this.access.profile(store);
    const fresh = (entries: RawEntry[]) => entries.filter((e) => !skipped.has(e.raw));
    // each round sees at least one entry not handled before (handled ones leave the set or
    // join `skipped`), else it is the last
    for (let round = 0; round < 1_000_000; round++) {
      let seen = 0;
      if (bulkOrder === BulkOrder.LowestFirst) {
        const batch = fresh(await store.sets.lowest(set, skipped.size + BATCH));
        seen = batch.length;
        if (seen > 0) {
          await handle(batch);
        }
      } else {
        for (let page = 1; ; page++) {
          const start = -page * RUBY_PAGE;
          const entries = await store.sets.range(set, start, start + RUBY_PAGE - 1);
          if (entries.length === 0) {
            break;
          }
          const batch = fresh(entries.reverse());
          seen += batch.length;
          if (batch.length > 0) {
            await handle(batch);
          }
        }
      }
      if (seen === 0) {
        return;
      }
    }
  }

  /** Delete all (Web "Delete All", JobSet#clear): UNLINK the set. */
  async clear(instance: string | undefined, set: SidekiqSetName): Promise<BulkResultDto> {
    const store = this.access.writable(instance);
    return { affected: await store.sets.clear(set), skipped: 0 };
  }

  private repush(entry: RawEntry, decrement: boolean): MoveToQueue | null {
    const repush = buildRepush(entry.raw, {
      decrementRetryCount: decrement,
      nowMs: Date.now() + (performance.now() % 1),
    });
    return repush === null
      ? null
      : { raw: entry.raw, queue: repush.queue, payload: repush.payload };
  }

  private async findEntry(
    store: SidekiqStore,
    set: SidekiqSetName,
    jid: string,
    score?: number,
  ): Promise<RawEntry> {
    const entry = await store.sets.find(set, jid, score);
    if (entry === null) {
      throw this.notFound(set, jid);
    }
    return entry;
  }

  private notFound(set: SidekiqSetName, jid: string): DomainError {
    return new DomainError('SIDEKIQ_JOB_NOT_FOUND', `No job ${jid} in the ${set} set`, {
      field: 'jid',
    });
  }
}
