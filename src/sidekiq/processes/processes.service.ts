import { Injectable } from '@nestjs/common';
import { DomainError } from '../../common/errors/domain-error.js';
import { SidekiqAccessService } from '../sidekiq-access.service.js';
import { SidekiqSignal } from '../sidekiq-keys.js';
import { decodeProcessInfo, parseIdentity } from '../payload/process-info.js';
import type { ProcessHash } from '../store/process.store.js';
import type { SidekiqStore } from '../store/sidekiq.store.js';
import type { SidekiqProcessDto, SignalResultDto } from './dto/process.dto.js';

function intOrNull(value: string | null): number | null {
  if (value === null) {
    return null;
  }
  const n = Number(value);
  return Number.isFinite(n) ? Math.trunc(n) : null;
}

function toProcess(hash: ProcessHash): SidekiqProcessDto | null {
  if (hash.info === null) {
    return null; // no heartbeat for 60 s: stale
  }
  const info = decodeProcessInfo(hash.info);
  const parsed = parseIdentity(hash.identity);
  const quiet = hash.quiet === 'true';
  const beat = hash.beat === null ? null : Number(hash.beat);
  return {
    identity: hash.identity,
    hostname: info?.hostname ?? parsed?.hostname ?? null,
    pid: info?.pid ?? parsed?.pid ?? null,
    tag: info?.tag ?? null,
    labels: info?.labels ?? [],
    queues: info?.queues ?? [],
    weights: info?.weights ?? [],
    concurrency: intOrNull(hash.concurrency) ?? info?.concurrency ?? null,
    busy: intOrNull(hash.busy) ?? 0,
    started_at: info?.startedAt ?? null,
    beat: beat !== null && Number.isFinite(beat) ? beat : null,
    quiet,
    stopping: quiet,
    rss: intOrNull(hash.rss),
    rtt_us: intOrNull(hash.rttUs),
    version: info?.version ?? null,
    embedded: info?.embedded ?? false,
  };
}

/** Sidekiq::ProcessSet and Process#quiet!/stop!. */
@Injectable()
export class ProcessesService {
  constructor(private readonly access: SidekiqAccessService) {}

  /**
   * ProcessSet.new: prunes identities without a live heartbeat (throttled once a minute as 6.5.2+
   * does; skipped in read-only mode), then lists the live ones sorted by identity.
   */
  async list(instance?: string): Promise<SidekiqProcessDto[]> {
    const store = this.access.readable(instance);
    if (!this.access.readOnly) {
      await store.processes.prune(false);
    }
    return this.live(store);
  }

  async get(instance: string | undefined, identity: string): Promise<SidekiqProcessDto> {
    const store = this.access.readable(instance);
    // membership first: an identity is only a key name, and one that names another key (`dead`,
    // `stat:processed`) must be a 404, never a read or a signal of that key
    const alive = await store.processes.alive(identity);
    const [hash] = alive ? await store.processes.hashes([identity]) : [];
    const process = hash ? toProcess(hash) : null;
    if (process === null) {
      throw this.notFound(identity);
    }
    return process;
  }

  /** Process#quiet!: TSTP, picked up at the next heartbeat. */
  quiet(instance: string | undefined, identity: string): Promise<SignalResultDto> {
    return this.signal(instance, identity, SidekiqSignal.Quiet);
  }

  /** Process#stop!: TERM, picked up at the next heartbeat. */
  stop(instance: string | undefined, identity: string): Promise<SignalResultDto> {
    return this.signal(instance, identity, SidekiqSignal.Stop);
  }

  /** Web "Quiet All" / "Stop All": every live, non-embedded process. */
  async signalAll(instance: string | undefined, signal: SidekiqSignal): Promise<SignalResultDto[]> {
    const store = this.access.writable(instance);
    await store.processes.prune(false);
    const targets = (await this.live(store)).filter((p) => !p.embedded);
    for (const p of targets) {
      await store.processes.signal(p.identity, signal);
    }
    return targets.map((p) => ({ identity: p.identity, signal }));
  }

  private async signal(
    instance: string | undefined,
    identity: string,
    signal: SidekiqSignal,
  ): Promise<SignalResultDto> {
    const store = this.access.writable(instance);
    // membership first: an identity is only a key name, and one that names another key (`dead`,
    // `stat:processed`) must be a 404, never a read or a signal of that key
    const alive = await store.processes.alive(identity);
    const [hash] = alive ? await store.processes.hashes([identity]) : [];
    const process = hash ? toProcess(hash) : null;
    if (process === null) {
      throw this.notFound(identity);
    }
    if (process.embedded) {
      throw new DomainError(
        'SIDEKIQ_OPERATION_NOT_ALLOWED',
        `Process ${identity} is embedded and cannot be signalled`,
        {
          field: 'identity',
        },
      );
    }
    await store.processes.signal(identity, signal);
    return { identity, signal };
  }

  private async live(store: SidekiqStore): Promise<SidekiqProcessDto[]> {
    const hashes = await store.processes.hashes(await store.processes.identities());
    const live = hashes.map(toProcess).filter((p): p is SidekiqProcessDto => p !== null);
    if (live.length > 0) {
      this.access.rememberVersion(store.name, live[0]!.version);
    }
    return live;
  }

  private notFound(identity: string): DomainError {
    return new DomainError('PROCESS_NOT_FOUND', `No live Sidekiq process ${identity}`, {
      field: 'identity',
    });
  }
}
