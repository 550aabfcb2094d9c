import { type FindingRow, jobLink, jsonBody, retryDelayMs, slackBody } from './alert-bodies.js';

const makeFinding = (overrides: Partial<FindingRow> = {}): FindingRow => ({
  id: '42',
  detector: 'stuck',
  identity: 'stuck:default:abc123',
  instance: 'default',
  job_class: 'ReportJob',
  jid: 'abc123',
  severity: 'critical',
  summary: 'running 3h 12m; this class usually finishes within 2.1 s (p99 of 4,210 runs)',
  evidence: { p99_ms: 2100, runs: 4210 },
  started_at: new Date('2026-12-04T10:00:00Z'),
  last_seen_at: new Date('2026-12-04T13:12:00Z'),
  ended_at: null,
  ...overrides,
});

const SENT = new Date('2026-12-04T13:12:05Z');

describe('alert bodies', () => {
  it('generic JSON: the finding whole, the kind, the status and the link to the job', () => {
    const finding = makeFinding();
    const link = jobLink('https://sup.example.com', finding);
    expect(link).toBe('https://sup.example.com/sidekiq#/jobs/abc123/default');
    expect(jsonBody({ receiver: 'ops', kind: 'repeat', finding, link, sentAt: SENT })).toEqual({
      kind: 'repeat',
      status: 'firing',
      receiver: 'ops',
      sent_at: '2026-12-04T13:12:05.000Z',
      link,
      finding: {
        id: 42,
        detector: 'stuck',
        identity: 'stuck:default:abc123',
        instance: 'default',
        job_class: 'ReportJob',
        jid: 'abc123',
        severity: 'critical',
        summary: finding.summary,
        evidence: { p99_ms: 2100, runs: 4210 },
        started_at: '2026-12-04T10:00:00.000Z',
        last_seen_at: '2026-12-04T13:12:00.000Z',
        ended_at: null,
      },
    });
  });

  it('has no link without a base URL or a jid', () => {
    expect(jobLink(null, makeFinding())).toBeNull();
    expect(jobLink('https://sup.example.com', makeFinding({ jid: null }))).toBeNull();
  });

  it('Slack: text for notifications and blocks with the summary, facts and evidence, escaped', () => {
    const finding = makeFinding({
      summary: 'ran <twice> & more',
      ended_at: new Date('2026-12-04T14:00:00Z'),
    });
    const body = slackBody({
      receiver: 'chat',
      kind: 'resolved',
      finding,
      link: 'https://sup.example.com/sidekiq#/jobs/abc123/default',
      sentAt: SENT,
    });
    expect(body.text).toBe(
      ':white_check_mark: RESOLVED [critical] stuck on default: ran <twice> & more',
    );
    expect(body.blocks[0]).toEqual({
      type: 'header',
      text: { type: 'plain_text', text: 'RESOLVED [critical] stuck on default' },
    });
    expect(body.blocks[1]).toEqual({
      type: 'section',
      text: { type: 'mrkdwn', text: 'ran &lt;twice&gt; &amp; more' },
    });
    const fields = (body.blocks[2] as { fields: { text: string }[] }).fields.map((f) => f.text);
    expect(fields).toContain(
      '*Job:* <https://sup.example.com/sidekiq#/jobs/abc123/default|abc123>',
    );
    expect(fields).toContain('*Ended:* 2026-12-04T14:00:00.000Z');
  });

  it('Slack: evidence past 1,500 characters is cut', () => {
    const body = slackBody({
      receiver: 'chat',
      kind: 'firing',
      finding: makeFinding({ evidence: { big: 'x'.repeat(5000) } }),
      link: null,
      sentAt: SENT,
    });
    const context = body.blocks[3] as { elements: { text: string }[] };
    expect(context.elements[0].text.length).toBeLessThan(1600);
    expect(context.elements[0].text).toMatch(/…```$/);
  });

  it('waits twice as long before each retry, up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6, 40].map((n) => retryDelayMs(n, 10_000, 300_000))).toEqual([
      10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000,
    ]);
  });
});
