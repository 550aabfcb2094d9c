import { Entity, EntityRepositoryType, PrimaryKey, Property } from '@mikro-orm/core';
import { StatsDailyRepository } from './stats-daily.repository.js';

// Sidekiq's own stat:processed:<day> / stat:failed:<day> counters, copied before Sidekiq expires them.
@Entity({ tableName: 'stats_daily', repository: () => StatsDailyRepository })
export class StatsDaily {
  [EntityRepositoryType]?: StatsDailyRepository;

  @PrimaryKey({ type: 'text' })
  instance!: string;

  @PrimaryKey({ type: 'date' })
  day!: string;

  @Property({ type: 'bigint' })
  processed!: string;

  @Property({ type: 'bigint' })
  failed!: string;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  importedAt!: Date;
}
