import { Entity, EntityRepositoryType, Index, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { DeployRepository } from './deploy.repository.js';

// A deploy mark: a revision of the application that went live on an instance at a time.
@Entity({ tableName: 'deploys', repository: () => DeployRepository })
@Unique({ properties: ['instance', 'revision'] })
@Index({ properties: ['instance', 'deployedAt'] })
export class Deploy {
  [EntityRepositoryType]?: DeployRepository;

  @PrimaryKey({ type: 'bigint', autoincrement: true, generated: 'by default as identity' })
  id!: string;

  @Property({ type: 'text' })
  instance!: string;

  @Property({ type: 'text' })
  revision!: string;

  @Property({ type: 'timestamptz' })
  deployedAt!: Date;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  createdAt!: Date;
}
