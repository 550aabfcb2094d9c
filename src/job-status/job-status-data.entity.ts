import { Entity, EntityRepositoryType, Index, PrimaryKey, Property } from '@mikro-orm/core';
import { JobStatusDataRepository } from './job-status-data.repository.js';

// sidekiq-status's progress and custom data of a job; may exist before the job's first event.
@Entity({ tableName: 'job_status_data', repository: () => JobStatusDataRepository })
// the expiry sweep walks the oldest first
@Index({ name: 'job_status_data_updated_at_index', properties: ['updatedAt'] })
export class JobStatusData {
  [EntityRepositoryType]?: JobStatusDataRepository;

  @PrimaryKey({ type: 'text' })
  instance!: string;

  @PrimaryKey({ type: 'text' })
  jid!: string;

  @Property({ type: 'bigint', nullable: true })
  at!: string | null;

  @Property({ type: 'bigint', nullable: true })
  total!: string | null;

  @Property({ type: 'text', nullable: true })
  message!: string | null;

  @Property({ type: 'json', defaultRaw: `'{}'` })
  data!: Record<string, unknown>;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  updatedAt!: Date;
}
