import { DomainError } from '../../common/errors/domain-error.js';
import { isDatabaseUnavailable } from '../../database/pg-errors.js';

/**
 * Writes a group of events in one transaction; resolves with one flag per event: true when this
 * transaction stored it (its first copy in the group), false when it was stored before.
 */
export type CommitFn<E> = (events: E[]) => Promise<boolean[]>;

export interface GroupLimits {
  /** transactions at once */
  groupConcurrency: number;
  /** events per transaction */
  groupMaxEvents: number;
  /** events whose jobs' advisory locks the running transactions may hold together */
  lockBudget: number;
}

export interface FlushStats {
  requests: number;
  events: number;
  inserted: number;
  ms: number;
}

interface Pending<E> {
  events: E[];
  resolve: (duplicates: boolean[]) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: every request's events wait in one queue; up to `groupConcurrency` transactions
 * run at once, each taking everything queued (up to `groupMaxEvents`). A request is answered only
 * after its transaction commits, so an acknowledged event is durable; a busy server writes bigger
 * groups, not more transactions.
 */
export class GroupCommit<E> {
  private queue: Pending<E>[] = [];
  private inFlight = 0;
  /** events of the running transactions: an upper bound of the advisory locks they hold */
  private lockingEvents = 0;
  private readonly listeners: ((stats: FlushStats) => void)[] = [];

  constructor(
    private readonly limits: GroupLimits,
    private readonly commit: CommitFn<E>,
    private readonly logError: (error: unknown) => void,
  ) {}

  onFlush(listener: (stats: FlushStats) => void): void {
    this.listeners.push(listener);
  }

  /** whether nothing is queued or running */
  get idle(): boolean {
    return this.queue.length === 0 && this.inFlight === 0;
  }

  /** Resolves, after commit, with one flag per event: true when it was already stored. */
  write(events: E[]): Promise<boolean[]> {
    if (events.length === 0) {
      return Promise.resolve([]);
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ events, resolve, reject });
      this.pump();
    });
  }

  /**
   * Starts groups while a connection is free and the lock budget has room: the running
   * transactions together hold at most `lockBudget` events' jobs' advisory locks. A group takes
   * up to `groupMaxEvents` and its share of the budget (`lockBudget / groupConcurrency`), so that
   * a backlog still runs `groupConcurrency` transactions at once; a request larger than that runs
   * alone in its group, and one larger than the whole budget runs when nothing else does.
   */
  private pump(): void {
    const { groupConcurrency, groupMaxEvents, lockBudget } = this.limits;
    const share = Math.min(groupMaxEvents, Math.max(1, Math.floor(lockBudget / groupConcurrency)));
    while (this.inFlight < groupConcurrency && this.queue.length > 0) {
      const free = lockBudget - this.lockingEvents;
      if (this.inFlight > 0 && this.queue[0].events.length > free) {
        return; // a running group's commit frees its locks and pumps again
      }
      const room = Math.min(share, free);
      const group: Pending<E>[] = [];
      let size = 0;
      while (this.queue.length > 0) {
        const next = this.queue[0];
        if (group.length > 0 && size + next.events.length > room) {
          break;
        }
        group.push(next);
        size += next.events.length;
        this.queue.shift();
      }
      this.lockingEvents += size;
      this.inFlight++;
      void this.flush(group).finally(() => {
        this.inFlight--;
        this.lockingEvents -= size;
        this.pump();
      });
    }
  }

  private async flush(group: Pending<E>[]): Promise<void> {
    const started = performance.now();
    try {
      const events = group.length === 1 ? group[0].events : group.flatMap((p) => p.events);
      const stored = await this.commit(events);
      let newCount = 0;
      let offset = 0;
      for (const pending of group) {
        const duplicates = new Array<boolean>(pending.events.length);
        for (let i = 0; i < duplicates.length; i++) {
          const isNew = stored[offset + i];
          newCount += isNew ? 1 : 0;
          duplicates[i] = !isNew;
        }
        offset += duplicates.length;
        pending.resolve(duplicates);
      }
      this.emit({
        requests: group.length,
        events: events.length,
        inserted: newCount,
        ms: performance.now() - started,
      });
    } catch (error) {
      if (group.length > 1 && !isDatabaseUnavailable(error)) {
        // one request's data failed the whole group: write each request on its own so only the
        // faulty one fails (together they lock no more jobs than the group did)
        await Promise.all(group.map((p) => this.flush([p])));
        return;
      }
      const mapped = isDatabaseUnavailable(error)
        ? new DomainError('DATABASE_UNAVAILABLE', 'The database is unavailable; retry later')
        : error;
      if (!isDatabaseUnavailable(error)) {
        this.logError(error);
      }
      for (const pending of group) {
        pending.reject(mapped);
      }
    }
  }

  private emit(stats: FlushStats): void {
    for (const listener of this.listeners) {
      listener(stats);
    }
  }
}
