import { Entity, EntityRepositoryType, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { StatsSnapshotRepository } from './stats-snapshot.repository.js';

// One per Sidekiq instance and minute: Sidekiq's stats and each queue's size and latency.
@Entity({ tableName: 'stats_snapshots', repository: () => StatsSnapshotRepository })
@Unique({ properties: ['instance', 'takenAt'] })
export class StatsSnapshot {
  [EntityRepositoryType]?: StatsSnapshotRepository;

  @PrimaryKey({ type: 'bigint', autoincrement: true, generated: 'by default as identity' })
  id!: string;

  @Property({ type: 'text' })
  instance!: string;

  @Property({ type: 'timestamptz' })
  takenAt!: Date;

  @Property({ type: 'bigint' })
  processed!: string;

  @Property({ type: 'bigint' })
  failed!: string;

  @Property({ type: 'bigint' })
  enqueued!: string;

  @Property({ type: 'bigint' })
  scheduled!: string;

  @Property({ type: 'bigint' })
  retry!: string;

  @Property({ type: 'bigint' })
  dead!: string;

  @Property({ type: 'integer' })
  busy!: number;

  @Property({ type: 'integer' })
  processes!: number;

  @Property({ type: 'double' })
  defaultLatency!: number;

  @Property({ type: 'json' })
  queues!: Record<string, { size: number; latency: number }>;
}
