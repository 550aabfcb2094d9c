// words that are PromQL syntax, not series, when they stand alone
const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'inf',
  'nan',
]);

/**
 * The metric names a PromQL expression reads: what is left after removing strings, label matchers,
 * range and subquery brackets, label lists (`by (…)`, `on (…)`) and function or aggregation calls.
 * Not a full parser: enough for the dashboards and rules shipped here, whose expressions a real
 * Prometheus evaluates in the e2e test too.
 */
export function metricNames(expr: string): string[] {
  const text = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const match of text.matchAll(/(?<![\w.$])[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const rest = text.slice(match.index + match[0].length);
    if (/^\s*\(/.test(rest) || KEYWORDS.has(match[0].toLowerCase())) {
      continue;
    }
    names.add(match[0]);
  }
  return [...names].sort();
}

/** The selector of a Grafana variable query `label_values(<selector>, <label>)`. */
export function variableSelector(query: string): string {
  const m = /^\s*label_values\((.*),\s*[A-Za-z_][A-Za-z0-9_]*\s*\)\s*$/.exec(query);
  if (!m) {
    throw new Error(`not a label_values() query: ${query}`);
  }
  return m[1];
}

/** The sample names of a Prometheus text exposition (`foo_bucket`, `foo_sum`, … as written). */
export function exposedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z_:][A-Za-z0-9_:]*)[{ ]/.exec(line);
    if (m) {
      names.add(m[1]);
    }
  }
  return names;
}
