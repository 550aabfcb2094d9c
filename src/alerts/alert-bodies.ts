import type { WebhookFormat } from '../config/alert-webhooks.js';

export type NotificationKind = 'firing' | 'repeat' | 'resolved';

/** A findings row as the alerts read it (the detectors' contract, issue #23). */
export interface FindingRow {
  id: string;
  detector: string;
  identity: string;
  instance: string;
  job_class: string | null;
  jid: string | null;
  severity: string;
  summary: string;
  evidence: Record<string, unknown>;
  started_at: Date;
  last_seen_at: Date;
  ended_at: Date | null;
}

export interface Notification {
  receiver: string;
  kind: NotificationKind;
  finding: FindingRow;
  /** the job's page on the dashboard; null without ALERT_LINK_BASE_URL or a jid */
  link: string | null;
  sentAt: Date;
}

// Slack: a section's text holds at most 3,000 characters
const EVIDENCE_CHARS = 1500;

export function jobLink(baseUrl: string | null, finding: FindingRow): string | null {
  if (baseUrl === null || finding.jid === null) {
    return null;
  }
  return `${baseUrl}/sidekiq#/jobs/${encodeURIComponent(finding.jid)}/${encodeURIComponent(finding.instance)}`;
}

export function notificationBody(format: WebhookFormat, n: Notification): unknown {
  return format === 'slack' ? slackBody(n) : jsonBody(n);
}

/** The generic body: the finding whole, what happened to it (kind, status) and the link. */
export function jsonBody(n: Notification): Record<string, unknown> {
  const f = n.finding;
  return {
    kind: n.kind,
    // Alertmanager's word for the state, for receivers that already read its webhooks
    status: n.kind === 'resolved' ? 'resolved' : 'firing',
    receiver: n.receiver,
    sent_at: n.sentAt.toISOString(),
    link: n.link,
    finding: {
      id: Number(f.id),
      detector: f.detector,
      identity: f.identity,
      instance: f.instance,
      job_class: f.job_class,
      jid: f.jid,
      severity: f.severity,
      summary: f.summary,
      evidence: f.evidence,
      started_at: f.started_at.toISOString(),
      last_seen_at: f.last_seen_at.toISOString(),
      ended_at: f.ended_at?.toISOString() ?? null,
    },
  };
}

const HEADLINE: Record<NotificationKind, string> = {
  firing: ':rotating_light: FIRING',
  repeat: ':rotating_light: STILL FIRING',
  resolved: ':white_check_mark: RESOLVED',
};

/** Slack's incoming-webhook body: `text` (notifications, old clients) and Block Kit `blocks`. */
export function slackBody(n: Notification): { text: string; blocks: unknown[] } {
  const f = n.finding;
  const title = `${HEADLINE[n.kind]} [${f.severity}] ${f.detector} on ${f.instance}`;
  const facts = [
    `*Detector:* ${escapeSlack(f.detector)}`,
    `*Instance:* ${escapeSlack(f.instance)}`,
    `*Severity:* ${escapeSlack(f.severity)}`,
    `*Since:* ${f.started_at.toISOString()}`,
    ...(f.job_class ? [`*Class:* ${escapeSlack(f.job_class)}`] : []),
    ...(f.jid
      ? [`*Job:* ${n.link ? `<${n.link}|${escapeSlack(f.jid)}>` : escapeSlack(f.jid)}`]
      : []),
    ...(f.ended_at ? [`*Ended:* ${f.ended_at.toISOString()}`] : []),
  ];
  let evidence = JSON.stringify(f.evidence, null, 1);
  if (evidence.length > EVIDENCE_CHARS) {
    evidence = `${evidence.slice(0, EVIDENCE_CHARS)}…`;
  }
  return {
    text: `${title}: ${f.summary}`,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: title.replace(/:[a-z_]+: /, '') } },
      { type: 'section', text: { type: 'mrkdwn', text: escapeSlack(f.summary) } },
      { type: 'section', fields: facts.map((text) => ({ type: 'mrkdwn', text })) },
      {
        type: 'context',
        elements: [{ type: 'mrkdwn', text: `\`\`\`${escapeSlack(evidence)}\`\`\`` }],
      },
    ],
  };
}

// Slack's mrkdwn reads &, < and > as markup (links, mentions): https://api.slack.com/reference/surfaces/formatting#escaping
function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Wait before retry number `attempt` (1 = the first retry): doubling from base, capped. */
export function retryDelayMs(attempt: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 30));
}
