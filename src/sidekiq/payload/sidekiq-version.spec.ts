import { DisplayRules } from './job-record.js';
import { BulkOrder, bulkOrderForVersion, displayRulesForVersion } from './sidekiq-version.js';

describe('behaviour by Sidekiq version', () => {
  it.each([
    [null, DisplayRules.Legacy, BulkOrder.HighestFirst],
    ['6.4.1', DisplayRules.Legacy, BulkOrder.HighestFirst],
    ['7.0.9', DisplayRules.Legacy, BulkOrder.HighestFirst],
    ['7.1.0', DisplayRules.Modern, BulkOrder.HighestFirst],
    ['7.3.4', DisplayRules.Modern, BulkOrder.HighestFirst],
    ['7.3.5', DisplayRules.Modern, BulkOrder.LowestFirst],
    ['7.4', DisplayRules.Modern, BulkOrder.LowestFirst],
    ['8.1.7', DisplayRules.Modern, BulkOrder.LowestFirst],
    ['10.0.0', DisplayRules.Modern, BulkOrder.LowestFirst],
  ])('%s: %s display rules, %s', (version, rules, order) => {
    expect(displayRulesForVersion(version)).toBe(rules);
    expect(bulkOrderForVersion(version)).toBe(order);
  });
});
