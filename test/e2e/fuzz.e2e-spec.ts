import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { TEST_TOKEN, TestApp } from '../support/test-context.js';

// Every route, method and parameter of the committed OpenAPI document, sent wrong types, huge and
// deep values, NUL and lone surrogates, odd content types, dates and numbers: no answer may be a
// 5xx, every error has the one shape, and the service answers normally afterwards. The seed and
// the count are fixed, so a failure here is reproducible (FUZZ_SEED / FUZZ_PER_OPERATION to vary).
const SEED = Number(process.env.FUZZ_SEED ?? 19);
const PER_OPERATION = Number(process.env.FUZZ_PER_OPERATION ?? 60);

interface Schema {
  type?: string;
  $ref?: string;
  enum?: unknown[];
  items?: Schema;
  properties?: Record<string, Schema>;
  format?: string;
}
interface Operation {
  parameters?: { name: string; in: 'query' | 'path'; schema?: Schema }[];
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<string, unknown>;
}
interface Spec {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HOSTILE_TEXT = [
  '',
  ' ',
  '0',
  '-1',
  '1.5',
  '1e21',
  '99999999999999999999',
  '-99999999999999999999',
  'NaN',
  'Infinity',
  '0x1f',
  'true',
  'null',
  '[]',
  '{}',
  '2020-W01',
  '2020-W01-1',
  '2020-001',
  '2021-02-30',
  '0000-01-01',
  '1969-12-31T23:59:59Z',
  '9999-12-31T23:59:59.999999999+14:00',
  '10000-01-01T00:00:00Z',
  '2026-11-23T24:00:00Z',
  'a\u0000b',
  '\u0000',
  'x\ud800',
  '\udc00y',
  '\ud83d\ude00',
  '字'.repeat(1_500),
  'x'.repeat(3_000),
  '../../etc/passwd',
  '%',
  '%00',
  '*',
  '[a]',
  "'; drop table jobs; --",
  'default',
  'retry',
  'dead',
  'scheduled',
  'processed',
];

/** Percent-encodes UTF-8, sending a lone surrogate as the bytes of its code point (invalid UTF-8). */
function encode(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdfff) {
      const next = text.charCodeAt(i + 1);
      if (code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        out += encodeURIComponent(text.slice(i, i + 2));
        i++;
      } else {
        out += `%${(0xe0 | (code >> 12)).toString(16)}%${(0x80 | ((code >> 6) & 0x3f)).toString(16)}%${(0x80 | (code & 0x3f)).toString(16)}`;
      }
    } else {
      out += encodeURIComponent(text[i]);
    }
  }
  return out;
}

class Fuzzer {
  constructor(
    private readonly spec: Spec,
    readonly random: () => number,
  ) {}

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)];
  }

  chance(p: number): boolean {
    return this.random() < p;
  }

  resolve(schema: Schema | undefined): Schema {
    let s = schema ?? {};
    for (let i = 0; s.$ref && i < 10; i++) {
      s = this.spec.components.schemas[s.$ref.split('/').pop()!] ?? {};
    }
    return s;
  }

  /** How often a value is hostile in this request: rarely (one bad field among good ones) to mostly. */
  hostility = 0.5;

  /** Plausible text for a URL value, or a hostile one. */
  text(schema: Schema | undefined): string {
    const s = this.resolve(schema);
    if (!this.chance(this.hostility)) {
      if (s.enum?.length) {
        return String(this.pick(s.enum));
      }
      if (s.type === 'number' || s.type === 'integer') {
        return String(Math.floor(this.random() * 100));
      }
      return this.pick(['abc', 'default', '2026-11-23T10:00:00Z', 'a1b2c3d4e5f6a7b8c9d0e1f2']);
    }
    return this.pick(HOSTILE_TEXT);
  }

  deep(levels: number): unknown {
    let value: unknown = 1;
    for (let i = 0; i < levels; i++) {
      value = this.chance(0.5) ? [value] : { k: value };
    }
    return value;
  }

  /** Any JSON value, of any type, sometimes huge or deep. */
  value(schema: Schema | undefined, depth = 0): unknown {
    const s = this.resolve(schema);
    if (depth < 3 && !this.chance(this.hostility)) {
      return this.plausible(s, depth);
    }
    if (this.chance(0.3)) {
      return this.pick(HOSTILE_TEXT);
    }
    return this.pick<() => unknown>([
      () => null,
      () => true,
      () => -1,
      () => 1e21,
      () => 2 ** 53 + 1,
      () => -0.5,
      () => Number.MAX_VALUE,
      () => [],
      () => ({}),
      () => [this.pick(HOSTILE_TEXT), 1, null],
      () => ({ [this.pick(HOSTILE_TEXT)]: this.pick(HOSTILE_TEXT) }),
      () => this.deep(this.pick([3, 200, 2_000])),
      () => 'y'.repeat(this.pick([10_000, 300_000])),
      () => Array.from({ length: 5_000 }, (_, i) => i),
    ])();
  }

  plausible(s: Schema, depth: number): unknown {
    if (s.enum?.length) {
      return this.pick(s.enum);
    }
    switch (s.type ?? 'string') {
      case 'number':
      case 'integer':
        return Math.floor(this.random() * 100);
      case 'boolean':
        return this.chance(0.5);
      case 'array':
        return Array.from({ length: 1 + Math.floor(this.random() * 3) }, () =>
          this.value(s.items, depth + 1),
        );
      case 'object':
        return this.object(s, depth + 1);
      default:
        return this.pick(['abc', '2026-11-23T10:00:00Z', '["a",1]', 'a1b2c3d4e5f6a7b8c9d0e1f2']);
    }
  }

  object(s: Schema, depth = 0): Record<string, unknown> {
    const body: Record<string, unknown> = {};
    for (const [name, prop] of Object.entries(s.properties ?? {})) {
      if (this.chance(0.7)) {
        body[name] = this.value(prop, depth);
      }
    }
    if (this.chance(0.1)) {
      body[this.pick(['unknown', 'constructor', '__proto__', '\u0000'])] = 1;
    }
    return body;
  }
}

interface Sent {
  method: string;
  path: string;
  contentType?: string;
  body?: Buffer;
  token?: string;
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

function send(port: number, req: Sent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = {};
    if (req.token !== undefined) {
      headers['PRIVATE-TOKEN'] = req.token;
    }
    if (req.contentType !== undefined) {
      headers['Content-Type'] = req.contentType;
    }
    if (req.body) {
      headers['Content-Length'] = req.body.length;
    }
    const r = http.request(
      { host: '127.0.0.1', port, method: req.method, path: req.path, headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    r.on('error', reject);
    r.end(req.body);
  });
}

describe('OpenAPI-driven fuzzing: no 5xx, one error shape, a healthy service afterwards (e2e)', () => {
  let ctx: TestApp;
  let port: number;
  const spec = JSON.parse(readFileSync('openapi/openapi.json', 'utf8')) as Spec;
  const operations = Object.entries(spec.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({ path, method: method.toUpperCase(), op })),
  );

  beforeAll(async () => {
    ctx = await TestApp.start();
    await ctx.app.listen(0, '127.0.0.1');
    port = (ctx.http.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await ctx?.close();
  });

  it(`sends ${PER_OPERATION} requests to each of the document's operations`, async () => {
    expect(operations.length).toBeGreaterThan(50);
    const fuzz = new Fuzzer(spec, mulberry32(SEED));
    const crashes: string[] = [];
    const misshapen: string[] = [];
    const undeclared = new Set<string>();
    let sent = 0;
    for (const { path, method, op } of operations) {
      const params = op.parameters ?? [];
      for (let n = 0; n < PER_OPERATION; n++) {
        fuzz.hostility = fuzz.pick([0.1, 0.1, 0.3, 0.8]);
        const url = path.replace(/\{(\w+)\}/g, (_, name: string) =>
          encode(fuzz.text(params.find((p) => p.name === name)?.schema)),
        );
        const query = params
          .filter((p) => p.in === 'query' && fuzz.chance(0.6))
          .map((p) => `${encode(p.name)}=${encode(fuzz.text(p.schema))}`);
        if (fuzz.chance(0.1)) {
          query.push(`${encode(fuzz.pick(HOSTILE_TEXT))}=1`);
        }
        const req: Sent = {
          method,
          path: url + (query.length ? `?${query.join('&')}` : ''),
          token: fuzz.chance(0.9) ? TEST_TOKEN : fuzz.pick(['', 'wrong-token', '\u00e9']),
        };
        const bodySchema = op.requestBody
          ? Object.values(op.requestBody.content)[0]?.schema
          : undefined;
        if (op.requestBody || fuzz.chance(0.15)) {
          const roll = fuzz.random();
          const json =
            roll < 0.6
              ? JSON.stringify(fuzz.object(fuzz.resolve(bodySchema)))
              : roll < 0.75
                ? JSON.stringify(fuzz.value(bodySchema))
                : fuzz.pick([
                    '{',
                    '{"a":',
                    'null',
                    '"text"',
                    '[1,2',
                    '{"a":"\\ud800"}',
                    '{"\\u0000":1}',
                    `{"events":${'['.repeat(10_000)}${']'.repeat(10_000)}}`,
                    `${'{"a":'.repeat(3_000)}1${'}'.repeat(3_000)}`,
                    'dry_run=true&limit=1',
                  ]);
          req.body = Buffer.from(json, 'utf8');
          req.contentType = fuzz.pick([
            'application/json',
            'application/json',
            'application/json',
            'application/json; charset=utf-8',
            'application/json; charset=latin1',
            'application/json; charset=utf-16',
            'application/x-www-form-urlencoded',
            'text/plain',
            'application/xml',
            'multipart/form-data; boundary=x',
            undefined,
          ]);
        }
        const answer = await send(port, req);
        sent++;
        const label = `${method} ${req.path.slice(0, 200)} [${req.contentType ?? 'no type'}] ${req.body?.subarray(0, 120).toString() ?? ''}`;
        // named in the spec, not only covered by its `default`
        const unrouted = answer.status === 404 && answer.text.includes('"message":"Cannot ');
        if (!(String(answer.status) in op.responses) && !unrouted) {
          undeclared.add(`${method} ${path} → ${answer.status}: ${answer.text.slice(0, 200)}`);
        }
        if (answer.status >= 500) {
          crashes.push(`${answer.status} ${label}: ${answer.text.slice(0, 300)}`);
          continue;
        }
        if (answer.status >= 400) {
          let body: Record<string, unknown> | null = null;
          try {
            body = JSON.parse(answer.text) as Record<string, unknown>;
          } catch {
            // reported below
          }
          const shaped =
            body !== null &&
            body.statusCode === answer.status &&
            typeof body.code === 'string' &&
            typeof body.message === 'string' &&
            typeof body.details === 'object' &&
            body.details !== null;
          if (!shaped) {
            misshapen.push(`${answer.status} ${label}: ${answer.text.slice(0, 300)}`);
          }
        }
      }
    }
    expect(sent).toBe(operations.length * PER_OPERATION);
    expect(crashes.slice(0, 15)).toEqual([]);
    expect(misshapen.slice(0, 15)).toEqual([]);
    expect([...undeclared]).toEqual([]);
    // still healthy: liveness, readiness, and a read and a write through the same pools
    expect((await send(port, { method: 'GET', path: '/api/v1/health/ready' })).status).toBe(200);
    const list = await send(port, {
      method: 'GET',
      path: '/api/v1/jobs?limit=1',
      token: TEST_TOKEN,
    });
    expect(list.status).toBe(200);
    const write = await send(port, {
      method: 'POST',
      path: '/api/v1/jobs',
      token: TEST_TOKEN,
      contentType: 'application/json',
      body: Buffer.from(JSON.stringify({ job_id: 'fuzz-after-1', job_class: 'AfterFuzzJob' })),
    });
    expect(write.status).toBe(201);
  });
});
