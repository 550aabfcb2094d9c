import { Entity, EntityRepositoryType, Index, PrimaryKey, Property } from '@mikro-orm/core';
import { FindingsRepository } from './findings.repository.js';

export { type DetectorName, FINDING_DETECTORS } from '../config/finding-detectors.js';

export const SEVERITIES = ['warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

// One thing a detector noticed, from the first evaluation that saw it to the first that no longer
// did (ended_at). Its identity names what it is about ('stuck:default:<jid>'): while it is open no
// second row has the same identity, so one stuck job is one finding however long it stays stuck.
// The table is shared by every detector of #23 (the alerts read it too); FindingsRepository is
// the only code that spells its SQL.
@Entity({ tableName: 'findings', repository: () => FindingsRepository })
@Index({
  name: 'findings_open_identity',
  expression: `create unique index "findings_open_identity" on "findings" ("identity")
      where "ended_at" is null`,
})
@Index({
  name: 'findings_ended_at_index',
  expression: `create index "findings_ended_at_index" on "findings" ("ended_at")
      where "ended_at" is not null`,
})
export class Finding {
  [EntityRepositoryType]?: FindingsRepository;

  @PrimaryKey({ type: 'bigint', autoincrement: true, generated: 'by default as identity' })
  id!: string;

  @Property({ type: 'text' })
  detector!: string;

  @Property({ type: 'text' })
  identity!: string;

  @Property({ type: 'text' })
  instance!: string;

  @Property({ type: 'text', nullable: true })
  jobClass!: string | null;

  @Property({ type: 'text', nullable: true })
  jid!: string | null;

  @Property({ type: 'text', defaultRaw: `'warning'` })
  severity!: string;

  /** one sentence saying why it fired */
  @Property({ type: 'text' })
  summary!: string;

  @Property({ type: 'json', defaultRaw: `'{}'` })
  evidence!: Record<string, unknown>;

  @Property({ type: 'timestamptz' })
  startedAt!: Date;

  @Property({ type: 'timestamptz' })
  lastSeenAt!: Date;

  /** null while open */
  @Property({ type: 'timestamptz', nullable: true })
  endedAt!: Date | null;
}
