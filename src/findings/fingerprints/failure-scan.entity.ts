import { Entity, PrimaryKey, Property } from '@mikro-orm/core';

// Where the fingerprints tick is in job_events, shared by every copy of the service (whichever
// gets the lock goes on from here): every event id up to last_id has been read, and `pending`
// holds recent readings of the id sequence, each read once it is old enough that the
// transactions holding smaller ids have committed.
@Entity({ tableName: 'failure_scan' })
export class FailureScan {
  // the one row, id 1
  @PrimaryKey({ type: 'integer', autoincrement: false })
  id!: number;

  @Property({ type: 'bigint' })
  lastId!: string;

  @Property({ type: 'jsonb' })
  pending!: { at: number; id: string }[];
}
