/**
 * A high-water mark over job_events ids that does not lose late commits: identity values are
 * taken at insert time but transactions commit in any order, so an id below the mark can appear
 * later. Ids skipped when the mark moves are kept as gaps and looked up again until they turn up
 * or expire (a rolled-back insert, or ON CONFLICT DO NOTHING on a duplicate, burns ids for good).
 */
export class EventCursor {
  private readonly gaps = new Map<bigint, number>();

  constructor(
    private mark: bigint,
    private readonly gapTtlMs = 30_000,
    private readonly maxGaps = 10_000,
  ) {}

  get highWaterMark(): string {
    return String(this.mark);
  }

  /** Gap ids still worth looking up (expired ones are dropped). */
  openGaps(now: number): string[] {
    for (const [id, since] of this.gaps) {
      if (now - since > this.gapTtlMs) {
        this.gaps.delete(id);
      }
    }
    return [...this.gaps.keys()].map(String);
  }

  /** Moves the mark over these new ids (ascending), recording the ids skipped between them. */
  advance(ids: string[], now: number): void {
    for (const text of ids) {
      const id = BigInt(text);
      if (id <= this.mark) {
        continue;
      }
      for (let missing = this.mark + 1n; missing < id; missing++) {
        if (this.gaps.size >= this.maxGaps) {
          break;
        }
        this.gaps.set(missing, now);
      }
      this.mark = id;
    }
  }

  /** These ids were read: never again. */
  found(ids: string[]): void {
    for (const id of ids) {
      this.gaps.delete(BigInt(id));
    }
  }
}
