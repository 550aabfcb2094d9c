import { EVENT_FIELDS, parseEvent } from '../ingest/event-parser.js';
import { JOB_EVENT_TYPES } from '../job-lifecycle.enum.js';
import { JobEventDto } from './job-event.dto.js';

// What @nestjs/swagger records for each @ApiProperty (its DECORATORS constants, which the
// package does not export): the OpenAPI document is built from exactly this.
const PROPERTIES = 'swagger/apiModelPropertiesArray';
const PROPERTY = 'swagger/apiModelProperties';

interface Documented {
  type?: unknown;
  enum?: unknown[];
  isArray?: boolean;
  example?: unknown;
}

function documented(): Map<string, Documented> {
  const names = Reflect.getMetadata(PROPERTIES, JobEventDto.prototype) as string[];
  return new Map(
    names.map((key) => {
      const name = key.replace(/^:/, '');
      return [name, Reflect.getMetadata(PROPERTY, JobEventDto.prototype, name) as Documented];
    }),
  );
}

// Strings whose text has a form the DTO states in words: each is given a sample of that form.
const TIME = new Date(Date.UTC(2026, 10, 23, 10, 0, 0, 123)).toISOString();
const FORMATTED: Record<string, unknown> = {
  occurred_at: TIME,
  enqueued_at: TIME,
  created_at: TIME,
  scheduled_at: TIME,
  started_at: TIME,
  arguments: '[1,"two"]',
  payload: '{"class":"HardWorker"}',
  display_args: '["gid://app/User/1",2]',
};

// Fields only allowed beside others (an Active Job unwrapped by the client): the others they need.
const WRAPPED = { job_class: 'ActiveJob::QueueAdapters::SidekiqAdapter::JobWrapper' };
const BESIDE: Record<string, Record<string, unknown>> = {
  display_class: WRAPPED,
  display_args: { ...WRAPPED, display_class: 'ReportJob' },
  active_job_id: { ...WRAPPED, display_class: 'ReportJob' },
};

type Kind = 'enum' | 'integer' | 'number' | 'boolean' | 'string[]' | 'string';

function kindOf(doc: Documented): Kind {
  if (doc.enum) {
    return 'enum';
  }
  if (doc.isArray) {
    return 'string[]';
  }
  if (doc.type === 'integer') {
    return 'integer';
  }
  if (doc.type === Number || doc.type === 'number') {
    return 'number';
  }
  if (doc.type === Boolean || doc.type === 'boolean') {
    return 'boolean';
  }
  return 'string';
}

const ACCEPTED: Record<Exclude<Kind, 'enum'>, (field: string, doc: Documented) => unknown[]> = {
  integer: () => [0, 42],
  number: () => [0, 2.5],
  boolean: () => [true, false],
  'string[]': () => [['app/workers/hard_worker.rb:5:in `perform`', 'sidekiq/processor.rb:202']],
  string: (field, doc) => [FORMATTED[field] ?? doc.example ?? 'text'],
};

const REFUSED: Record<Exclude<Kind, 'enum'>, (field: string) => unknown[]> = {
  integer: () => [1.5, 'many', true],
  number: () => ['fast', false],
  boolean: () => ['maybe', 1],
  'string[]': () => [{ line: 1 }, [1, 2]],
  // time fields also read epoch seconds, and JSON-text fields the JSON value itself (their
  // descriptions say so); every other string field takes text only
  string: (field) => (field in FORMATTED ? [] : [42, { a: 1 }]),
};

const base = { type: 'failed', job_id: 'b4a577edbccf1d805744efa9' };
const parse = (body: Record<string, unknown>) =>
  parseEvent(body, { path: '', form: false, now: new Date(0) });

describe('JobEventDto (the OpenAPI document) and parseEvent (what ingestion reads)', () => {
  const docs = documented();

  it('name the same fields', () => {
    expect([...docs.keys()].sort()).toEqual([...EVENT_FIELDS].sort());
  });

  it('accept every event type the document lists, and refuse every other', () => {
    const listed = docs.get('type')!.enum as string[];
    for (const type of listed) {
      expect(parse({ ...base, type }).errors, type).toBeUndefined();
    }
    for (const type of [...JOB_EVENT_TYPES.filter((t) => !listed.includes(t)), 'nope']) {
      expect(
        parse({ ...base, type }).errors?.map((e) => e.field),
        type,
      ).toEqual(['type']);
    }
  });

  for (const field of EVENT_FIELDS.filter((f) => f !== 'type')) {
    it(`agree on the type of ${field}`, () => {
      const doc = docs.get(field);
      expect(doc, `${field} is documented`).toBeDefined();
      const kind = kindOf(doc!) as Exclude<Kind, 'enum'>;
      const beside = BESIDE[field] ?? {};
      for (const value of ACCEPTED[kind](field, doc!)) {
        expect(
          parse({ ...base, ...beside, [field]: value }).errors,
          `${field}: ${String(value)}`,
        ).toBe(undefined);
      }
      for (const value of REFUSED[kind](field)) {
        expect(
          parse({ ...base, ...beside, [field]: value }).errors?.map((e) => e.field),
          `${field}: ${JSON.stringify(value)}`,
        ).toEqual([field]);
      }
    });
  }
});
