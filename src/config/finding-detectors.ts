// Every detector of #23 that writes findings, in one list: the findings table, its REST filter,
// the findings gauge and a webhook receiver's `detectors` (a typo is refused at startup rather
// than silently routing nothing) all read it.
export const FINDING_DETECTORS = [
  'stuck',
  'never_started',
  'duplicate',
  'overdue',
  'new_failure',
  'deploy_regression',
] as const;

export type DetectorName = (typeof FINDING_DETECTORS)[number];
