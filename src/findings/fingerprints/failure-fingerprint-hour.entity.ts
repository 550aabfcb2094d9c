import { Entity, Index, PrimaryKey, Property } from '@mikro-orm/core';

// Failures of a fingerprint per UTC hour (the trend); hours older than the event retention go.
@Entity({ tableName: 'failure_fingerprint_hours' })
@Index({ name: 'failure_fingerprint_hours_hour_index', properties: ['hour'] })
export class FailureFingerprintHour {
  @PrimaryKey({ type: 'text' })
  instance!: string;

  @PrimaryKey({ type: 'text' })
  fingerprint!: string;

  @PrimaryKey({ type: 'timestamptz' })
  hour!: Date;

  @Property({ type: 'integer' })
  count!: number;
}
