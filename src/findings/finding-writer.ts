import type { EntityManager } from '@mikro-orm/postgresql';
import { type DetectorName, Finding } from './finding.entity.js';
import type { EndUnseen, FindingDraft, RecordResult } from './findings.repository.js';

export type { EndUnseen, FindingDraft, RecordResult } from './findings.repository.js';

/**
 * How every detector writes its findings (the findings module's own, the failures module's and
 * the periodic module's overdue check): one evaluation of `detector` opens or refreshes a finding
 * per draft, by its identity, and ends its other open ones as `endUnseen` says; an ended finding
 * stays as history. `em` is the caller's transaction, the one that holds its advisory lock.
 */
export function recordFindings(
  em: EntityManager,
  detector: DetectorName,
  drafts: readonly FindingDraft[],
  now: Date,
  endUnseen: EndUnseen,
): Promise<RecordResult> {
  return em.getRepository(Finding).record(detector, drafts, now, endUnseen);
}
