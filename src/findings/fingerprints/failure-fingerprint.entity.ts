import { Entity, EntityRepositoryType, Index, PrimaryKey, Property } from '@mikro-orm/core';
import { FailureFingerprintRepository } from './failure-fingerprint.repository.js';

// One group of failures per instance: same error class, masked message and application frame
// (fingerprint.ts). Fed by the fingerprints tick from job_events; lists sort by last_seen_at.
@Entity({ tableName: 'failure_fingerprints', repository: () => FailureFingerprintRepository })
@Index({ name: 'failure_fingerprints_last_seen_at_index', properties: ['lastSeenAt'] })
export class FailureFingerprint {
  [EntityRepositoryType]?: FailureFingerprintRepository;

  @PrimaryKey({ type: 'text' })
  instance!: string;

  @PrimaryKey({ type: 'text' })
  fingerprint!: string;

  @Property({ type: 'text' })
  errorClass!: string;

  /** the masked message */
  @Property({ type: 'text' })
  message!: string;

  /** the first application frame, normalized; null without a backtrace */
  @Property({ type: 'text', nullable: true })
  frame!: string | null;

  @Property({ type: 'timestamptz' })
  firstSeenAt!: Date;

  @Property({ type: 'timestamptz' })
  lastSeenAt!: Date;

  @Property({ type: 'bigint' })
  count!: string;

  /** job classes affected, at most MAX_CLASSES (fingerprint.ts), sorted */
  @Property({ type: 'text[]' })
  jobClasses!: string[];

  @Property({ type: 'boolean' })
  jobClassesTruncated!: boolean;

  /** the latest failure's job and its message as sent (cut to a preview) */
  @Property({ type: 'text' })
  sampleJid!: string;

  @Property({ type: 'text', nullable: true })
  sampleMessage!: string | null;
}
