import { execFile } from 'node:child_process';
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { makeJid } from '../factories/job-event.factory.js';
import { TypedClient } from '../openapi-client/client.js';
import { exercise } from '../openapi-client/usage.js';
import { TEST_TOKEN, TestApp } from '../support/test-context.js';

// The committed spec checked by the real tools a client team would use: Redocly's linter, and
// openapi-typescript's generated types compiled by tsc against a small client
// (test/openapi-client), which then runs against the service.
const run = promisify(execFile);
const node = (script: string, ...args: string[]) =>
  run(process.execPath, [script, ...args], { maxBuffer: 64 * 1024 * 1024 });
const REDOCLY = 'node_modules/@redocly/cli/bin/cli.js';
const OPENAPI_TS = 'node_modules/openapi-typescript/bin/cli.js';
const TSC = 'node_modules/typescript/bin/tsc';

/** tsc's diagnostics, '' when the project compiles. */
async function compile(project: string): Promise<string> {
  try {
    await node(TSC, '-p', project);
    return '';
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    return `${stdout ?? ''}${stderr ?? ''}` || String(error);
  }
}

type Spec = {
  paths: Record<string, Record<string, { responses: Record<string, { content?: unknown }> }>>;
  components: { schemas: Record<string, { properties: Record<string, unknown> }> };
};

/**
 * The client compiled against types generated from a changed copy of the spec, in the same
 * layout as the repository (inside it, so tsc finds node_modules).
 */
async function compileAgainst(name: string, change: (spec: Spec) => void): Promise<string> {
  const root = join('.local', `openapi-${name}`);
  await rm(root, { recursive: true, force: true });
  await mkdir(join(root, 'openapi'), { recursive: true });
  const spec = JSON.parse(await readFile('openapi/openapi.json', 'utf8')) as Spec;
  change(spec);
  await writeFile(join(root, 'openapi/openapi.json'), JSON.stringify(spec));
  await node(
    OPENAPI_TS,
    join(root, 'openapi/openapi.json'),
    '-o',
    join(root, 'openapi/openapi.d.ts'),
  );
  await cp('test/openapi-client', join(root, 'test/openapi-client'), { recursive: true });
  await cp('tsconfig.json', join(root, 'tsconfig.json'));
  const errors = await compile(join(root, 'test/openapi-client'));
  await rm(root, { recursive: true, force: true });
  return errors;
}

describe('the committed OpenAPI spec, checked by real tools (e2e)', () => {
  it('passes `redocly lint` with no error and no warning (redocly.yaml)', async () => {
    const { stdout } = await node(REDOCLY, 'lint', 'openapi/openapi.json', '--format=json');
    const report = JSON.parse(stdout) as {
      totals: { errors: number; warnings: number; ignored: number };
      problems: { ruleId: string; message: string }[];
    };
    expect(report.problems.map((p) => `${p.ruleId}: ${p.message}`)).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
  });

  it('has openapi/openapi.d.ts as openapi-typescript generates it (run `npm run openapi`)', async () => {
    await mkdir('.local', { recursive: true });
    const fresh = join('.local', 'openapi-fresh.d.ts');
    await node(OPENAPI_TS, 'openapi/openapi.json', '-o', fresh);
    const [generated, committed] = await Promise.all([
      readFile(fresh, 'utf8'),
      readFile('openapi/openapi.d.ts', 'utf8'),
    ]);
    await rm(fresh);
    expect(committed).toBe(generated);
  });

  it('compiles a typed client against the generated types', async () => {
    expect(await compile('test/openapi-client')).toBe('');
  });

  it('would not compile if a response had no schema, or lost a field', async () => {
    const untyped = await compileAgainst('untyped', (spec) => {
      delete spec.paths['/api/v1/jobs'].get.responses['200'].content;
    });
    expect(untyped).toMatch(/usage\.ts.*error TS/);
    expect(untyped).toMatch(/never/);

    const fieldless = await compileAgainst('fieldless', (spec) => {
      delete spec.components.schemas.JobResponseDto.properties.job_id;
    });
    expect(fieldless).toMatch(/usage\.ts.*error TS2339: Property 'job_id' does not exist/);
  });
});

describe('the typed client against the running service (e2e)', () => {
  let ctx: TestApp;
  let client: TypedClient;

  beforeAll(async () => {
    ctx = await TestApp.start();
    await ctx.app.listen(0, '127.0.0.1');
    const { port } = ctx.http.address() as AddressInfo;
    client = new TypedClient(`http://127.0.0.1:${port}`, TEST_TOKEN);
  });

  afterAll(async () => {
    await ctx?.close();
  });

  it('gets what the generated types promise', async () => {
    const jid = makeJid();
    const seen = await exercise(client, jid, `TypedClientJob${jid.slice(0, 6)}`);
    expect(seen).toEqual({
      accepted: 2,
      created: jid,
      listed: [jid],
      nextCursor: null,
      timeline: ['queued', 'started', 'succeeded'],
      completed: { jobIds: [jid], nextOffset: null },
      durations: [`${jid} 3.0 s`],
      whereabouts: 'nowhere',
      tokenName: 'bootstrap admin (PRIVATE_TOKEN)',
      notFound: { status: 404, code: 'JOB_NOT_FOUND', message: `No job with job_id ${jid}x` },
    });
  });
});
