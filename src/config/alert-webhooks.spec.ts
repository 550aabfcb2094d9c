import { parseAlertWebhooks } from './alert-webhooks.js';
import { InvalidEnvironmentError, validateEnv } from './env.schema.js';

const VALID_ENV = {
  DATABASE_URL: 'postgresql://app@127.0.0.1:5432/app',
  REDIS_URL: 'redis://127.0.0.1:6379/0',
  PRIVATE_TOKEN: 'a'.repeat(32),
};

describe('parseAlertWebhooks', () => {
  it('reads receivers with their defaults: json, every detector, 4 h repeat, no headers', () => {
    const { receivers, problems } = parseAlertWebhooks(
      JSON.stringify([
        { name: 'ops', url: 'https://hooks.example.com/a' },
        {
          name: 'chat',
          url: 'http://127.0.0.1:9/slack',
          format: 'slack',
          detectors: ['stuck', 'duplicate'],
          repeat_interval_s: 600,
          headers: { Authorization: 'Bearer x' },
        },
      ]),
    );
    expect(problems).toEqual([]);
    expect(receivers).toEqual([
      {
        name: 'ops',
        url: 'https://hooks.example.com/a',
        format: 'json',
        detectors: null,
        repeatIntervalMs: 14_400_000,
        headers: {},
      },
      {
        name: 'chat',
        url: 'http://127.0.0.1:9/slack',
        format: 'slack',
        detectors: ['stuck', 'duplicate'],
        repeatIntervalMs: 600_000,
        headers: { Authorization: 'Bearer x' },
      },
    ]);
  });

  it('reads "all" as every detector, and nothing configured as no receiver', () => {
    expect(
      parseAlertWebhooks('[{"name":"a","url":"http://x","detectors":"all"}]').receivers[0]
        .detectors,
    ).toBeNull();
    expect(parseAlertWebhooks(undefined)).toEqual({ receivers: [], problems: [] });
    expect(parseAlertWebhooks('  ')).toEqual({ receivers: [], problems: [] });
  });

  it('names every problem by entry and field', () => {
    const { receivers, problems } = parseAlertWebhooks(
      JSON.stringify([
        { name: 'ops', url: 'ftp://files.example.com/x' },
        { name: 'ops', url: 'https://ok.example.com', format: 'xml', colour: 'red' },
        { name: 'b', url: 'https://ok.example.com', detectors: ['stuck', 'stukc'] },
        { name: 'c', url: 'not a url', repeat_interval_s: 5, headers: { 'X-A': 'a\nb' } },
        'ops',
      ]),
    );
    expect(receivers).toEqual([]);
    expect(problems).toEqual([
      'ALERT_WEBHOOKS[0].url must be an http:// or https:// URL',
      'ALERT_WEBHOOKS[1].colour is not a known field (name, url, format, detectors, repeat_interval_s, headers)',
      "ALERT_WEBHOOKS[1].name repeats an earlier receiver's name",
      'ALERT_WEBHOOKS[1].format must be "json" or "slack"',
      'ALERT_WEBHOOKS[2].detectors must be "all" or a list of stuck, never_started, duplicate, overdue, new_failure, deploy_regression',
      'ALERT_WEBHOOKS[3].url must be an http:// or https:// URL',
      'ALERT_WEBHOOKS[3].repeat_interval_s must be a whole number of seconds from 60 to 2592000',
      'ALERT_WEBHOOKS[3].headers must map header names to single-line strings',
      'ALERT_WEBHOOKS[4] must be an object',
    ]);
  });

  it('refuses what is not a JSON array', () => {
    expect(parseAlertWebhooks('{"name":"a"}').problems).toEqual([
      'ALERT_WEBHOOKS must be a JSON array',
    ]);
    expect(parseAlertWebhooks('[{').problems).toEqual(['ALERT_WEBHOOKS must be a JSON array']);
  });

  it('stops the service at startup with the problems, never a URL or header value', () => {
    const secret = 'https://hooks.example.com/T000/SECRET';
    let caught: unknown;
    try {
      validateEnv({
        ...VALID_ENV,
        ALERT_WEBHOOKS: JSON.stringify([{ name: 'ops', url: secret, format: 'yaml' }]),
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidEnvironmentError);
    const error = caught as InvalidEnvironmentError;
    expect(error.names).toEqual(['ALERT_WEBHOOKS']);
    expect(error.message).toBe(
      'Invalid environment: ALERT_WEBHOOKS; ALERT_WEBHOOKS[0].format must be "json" or "slack"',
    );
    expect(error.message).not.toContain('SECRET');
  });
});
