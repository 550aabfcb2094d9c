import { EntityRepository } from '@mikro-orm/postgresql';
import type { DeployMark } from '../fingerprints/failure-fingerprint.repository.js';
import type { Deploy } from './deploy.entity.js';

export interface DeployRow extends DeployMark {
  id: string;
  createdAt: Date;
}

interface RawDeploy {
  id: string;
  instance: string;
  revision: string;
  deployedAt: string;
  createdAt: string;
}

const COLUMNS = `id::text as id, instance, revision, deployed_at as "deployedAt",
  created_at as "createdAt"`;

const toRow = (r: RawDeploy): DeployRow => ({
  ...r,
  deployedAt: new Date(r.deployedAt),
  createdAt: new Date(r.createdAt),
});

/** deploys: one per instance and revision. */
export class DeployRepository extends EntityRepository<Deploy> {
  /** Records the deploy unless the instance has that revision already; returns the stored one. */
  async mark(
    instance: string,
    revision: string,
    deployedAt: Date,
  ): Promise<{ deploy: DeployRow; created: boolean }> {
    // DO UPDATE (a no-op) rather than DO NOTHING: a concurrent first mark of the same revision is
    // waited for and its row returned, where DO NOTHING would return nothing to read back
    const [row] = await this.em.execute<(RawDeploy & { created: boolean })[]>(
      `insert into deploys (instance, revision, deployed_at) values (?, ?, ?)
       on conflict (instance, revision) do update set revision = excluded.revision
       returning ${COLUMNS}, (xmax = 0) as created`,
      [instance, revision, deployedAt.toISOString()],
    );
    const { created, ...deploy } = row;
    return { deploy: toRow(deploy), created };
  }

  /** Newest deploy first. */
  async page(instance: string | null, limit: number, offset: number): Promise<DeployRow[]> {
    const rows = await this.em.execute<RawDeploy[]>(
      `select ${COLUMNS} from deploys where (?::text is null or instance = ?)
       order by deploys.deployed_at desc, deploys.id desc limit ? offset ?`,
      [instance, instance, limit, offset],
    );
    return rows.map(toRow);
  }

  /** Each instance's latest deploy. */
  async latest(): Promise<DeployMark[]> {
    const rows = await this.em.execute<RawDeploy[]>(
      `select distinct on (deploys.instance) ${COLUMNS} from deploys
       order by deploys.instance, deploys.deployed_at desc, deploys.id desc`,
    );
    return rows.map((r) => {
      const { instance, revision, deployedAt } = toRow(r);
      return { instance, revision, deployedAt };
    });
  }
}
