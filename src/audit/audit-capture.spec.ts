import { DomainError } from '../common/errors/domain-error.js';
import {
  bounded,
  captureRequest,
  jidsOf,
  MAX_JIDS,
  summarizeError,
  summarizeResult,
} from './audit-capture.js';

describe('captureRequest', () => {
  it('takes targets from params and named jids, options from the rest of query and body', () => {
    const sut = captureRequest(
      { action: 'sidekiq.queue.clear', params: { name: 'queue' } },
      { name: 'mailers', jid: 'abc' },
      { instance: 'eu', score: '12.5' },
      { confirm: true, jids: ['def', 'abc', 7] },
    );
    expect(sut).toEqual({
      instance: 'eu',
      targets: { queue: 'mailers', jids: ['abc', 'def'] },
      options: { score: '12.5', confirm: true },
    });
  });

  it('never keeps a secret-looking field, wherever it is', () => {
    const sut = captureRequest(
      { action: 'x' },
      { token: 'p' },
      { private_token: 'q', 'PRIVATE-TOKEN': 'r' },
      { name: 'ci', nested: { password: 's', api_key: 't', ok: 1 }, secret: 'u' },
    );
    expect(JSON.stringify(sut)).not.toMatch(/"[pqrstu]"/);
    expect(sut.options).toEqual({ name: 'ci', nested: { ok: 1 } });
  });

  it('takes no instance from a body or query that has none (the caller decides the default)', () => {
    expect(captureRequest({ action: 'x' }, {}, {}, undefined).instance).toBeNull();
    expect(captureRequest({ action: 'x' }, {}, {}, { instance: 'us' }).instance).toBe('us');
  });
});

describe('bounded', () => {
  it('cuts long text, long lists, deep nesting and many keys', () => {
    const sut = bounded({
      text: 'x'.repeat(1000),
      list: Array.from({ length: 150 }, (_, i) => i),
      deep: { a: { b: { c: { d: 1 } } } },
      wide: Object.fromEntries(Array.from({ length: 80 }, (_, i) => [`k${i}`, i])),
    }) as Record<string, unknown>;
    expect((sut.text as string).length).toBe(257);
    expect(sut.list).toHaveLength(101);
    expect((sut.list as unknown[])[100]).toBe('… 50 more');
    expect(sut.deep).toEqual({ a: { b: { c: '[…]' } } });
    expect(Object.keys(sut.wide as object)).toHaveLength(50);
  });
});

describe('text', () => {
  it('replaces what Postgres cannot store, also a surrogate pair the cut splits', () => {
    expect(bounded({ 'k\u0000': 'a\u0000b', lone: '\ud800x' })).toEqual({
      'k\uFFFD': 'a\uFFFDb',
      lone: '\uFFFDx',
    });
    const cut = bounded(`${'x'.repeat(255)}😀`) as string;
    expect(cut).toBe(`${'x'.repeat(255)}\uFFFD…`);
  });
});

describe('jidsOf', () => {
  it('keeps strings once each, at most MAX_JIDS', () => {
    expect(jidsOf('a', ['b', 'a', null, 3], undefined)).toEqual(['a', 'b']);
    const many = Array.from({ length: MAX_JIDS + 10 }, (_, i) => `j${i}`);
    expect(jidsOf(many)).toHaveLength(MAX_JIDS);
  });
});

describe('summarizeResult', () => {
  it('keeps counts, counts a list, and takes only what the spec picks from the rest', () => {
    expect(summarizeResult({ action: 'x' }, { deleted: 3, name: 'q', ok: true })).toEqual({
      deleted: 3,
      ok: true,
    });
    expect(summarizeResult({ action: 'x' }, [{}, {}])).toEqual({ count: 2 });
    const token = { id: 'id-1', name: 'ci', token: 'glpat-secret' };
    const sut = summarizeResult(
      { action: 'token.create', result: (r) => ({ token_id: (r as typeof token).id }) },
      token,
    );
    expect(sut).toEqual({ token_id: 'id-1' });
  });

  it('records a response it cannot read as such rather than throwing (the change is made)', () => {
    const spec = { action: 'x', result: (r: unknown) => ({ n: (r as { a: { b: 1 } }).a.b }) };
    expect(summarizeResult(spec, { deleted: 1 })).toEqual({ deleted: 1, unreadable: true });
  });

  it('keeps up to MAX_JIDS jids a response names', () => {
    const jids = Array.from({ length: 300 }, (_, i) => `j${i}`);
    expect(summarizeResult({ action: 'x', result: () => ({ jids }) }, {}).jids).toEqual(jids);
  });
});

describe('summarizeError', () => {
  it('records the code, status, message and the fields at fault', () => {
    const error = new DomainError('VALIDATION_FAILED', 'confirm must be true', {
      errors: [{ field: 'confirm', message: 'must be true' }],
    });
    expect(summarizeError(error)).toEqual({
      code: 'VALIDATION_FAILED',
      status: 400,
      message: 'confirm must be true',
      fields: ['confirm'],
    });
    expect(summarizeError(new Error('boom'))).toEqual({ message: 'boom' });
  });
});
