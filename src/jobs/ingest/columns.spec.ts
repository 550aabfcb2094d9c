import { MetadataStorage } from '@mikro-orm/core';
import { JobEvent } from '../job-event.entity.js';
import { Job } from '../job.entity.js';
import { JobEventType } from '../job-lifecycle.enum.js';
import {
  type Column,
  EVENT_COLUMNS,
  type IngestEvent,
  JOB_COLUMNS,
  type JobRowValues,
  STORED_EVENT_COLUMNS,
} from './columns.js';

// The entity's property type for each SQL type the writer sends.
const ENTITY_TYPE: Record<Column['type'], string> = {
  text: 'text',
  int8: 'bigint',
  int: 'integer',
  float8: 'double',
  boolean: 'boolean',
  timestamptz: 'timestamptz',
  jsonb: 'json',
};

const snake = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

function entityProperties(entity: object) {
  return MetadataStorage.getMetadataFromDecorator(entity as never).properties as Record<
    string,
    { name: string; type: string; nullable?: boolean } | undefined
  >;
}

describe.each([
  ['job_events', JobEvent, STORED_EVENT_COLUMNS as readonly Column[]],
  ['jobs', Job, JOB_COLUMNS as readonly Column[]],
] as const)('the %s columns the writer stores', (_, entity, columns) => {
  it('are properties of the entity, with the same column name, type and nullability', () => {
    const props = entityProperties(entity);
    for (const c of columns) {
      const prop = props[c.key];
      expect({
        column: c.column,
        name: prop?.name,
        type: prop?.type,
        nullable: prop?.nullable ?? false,
      }).toEqual({
        column: snake(c.key),
        name: c.key,
        type: ENTITY_TYPE[c.type],
        // an event's job id is null from the parser until the writer sets it; stored, never null
        nullable: c.key === 'jobId' ? false : (c.nullable ?? false),
      });
    }
  });
});

describe('the row types', () => {
  it('type each property by its column (tsc checks these)', () => {
    expectTypeOf<IngestEvent['type']>().toEqualTypeOf<JobEventType>();
    expectTypeOf<IngestEvent['occurredAt']>().toEqualTypeOf<string>();
    expectTypeOf<IngestEvent['retryCount']>().toEqualTypeOf<number | null>();
    expectTypeOf<IngestEvent['willRetry']>().toEqualTypeOf<boolean | null>();
    expectTypeOf<JobRowValues['payloadRest']>().toEqualTypeOf<string | null>();
    expectTypeOf<JobRowValues['id']>().toEqualTypeOf<string>();
    expectTypeOf<JobRowValues['firstEventAt']>().toEqualTypeOf<string>();
    expectTypeOf<keyof IngestEvent>().toEqualTypeOf<(typeof EVENT_COLUMNS)[number]['key']>();
    expect(EVENT_COLUMNS.find((c) => c.key === 'type')?.column).toBe('type');
  });
});
