import { Injectable } from '@nestjs/common';
import { SidekiqJobDto } from '../dto/sidekiq-job.dto.js';
import { nowSeconds } from '../queues/queues.service.js';
import { SidekiqAccessService } from '../sidekiq-access.service.js';
import { decodeJob, type DisplayRules } from '../payload/job-record.js';
import { decodeWork } from '../payload/process-info.js';
import type { SidekiqStore } from '../store/sidekiq.store.js';
import type { SidekiqWorkerDto } from './dto/worker.dto.js';

/** Sidekiq::WorkSet: the jobs running now, as of each process's last heartbeat. */
@Injectable()
export class WorkersService {
  constructor(private readonly access: SidekiqAccessService) {}

  async list(instance?: string): Promise<SidekiqWorkerDto[]> {
    const store = this.access.readable(instance);
    return this.collect(store, await this.access.displayRules(store));
  }

  /** The worker running `jid`, if any (WorkSet#find_work). */
  async findByJid(store: SidekiqStore, jid: string): Promise<SidekiqWorkerDto | null> {
    const all = await this.collect(store, await this.access.displayRules(store));
    return all.find((w) => w.job.jid === jid) ?? null;
  }

  private async collect(store: SidekiqStore, rules: DisplayRules): Promise<SidekiqWorkerDto[]> {
    const work = await store.processes.work(await store.processes.identities());
    const now = nowSeconds();
    const out: SidekiqWorkerDto[] = [];
    for (const { identity, work: threads } of work) {
      for (const thread of Object.keys(threads).sort()) {
        const w = decodeWork(threads[thread]!);
        const raw = w.payload ?? threads[thread]!;
        out.push({
          process: identity,
          thread,
          queue: w.queue,
          run_at: w.runAt,
          job: SidekiqJobDto.from(decodeJob(raw, rules), now),
        });
      }
    }
    // WorkSet#each sorts by run_at (stable for ties)
    return out.sort((a, b) => (a.run_at ?? 0) - (b.run_at ?? 0));
  }
}
