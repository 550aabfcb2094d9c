import type { ProcessEvidence } from '../../jobs/processes/lost-rule.js';
import { DomainError } from '../../common/errors/domain-error.js';
import type { FindingRow, Observation } from '../findings.repository.js';
import type { DetectorName } from '../finding.entity.js';

/** What one evaluation of a detector saw. */
export interface DetectorResult {
  detector: DetectorName;
  observations: Observation[];
  /**
   * false when part of what it reads was out of reach (an instance's Redis, a read cut at its
   * bound): its open findings not seen again are then kept open, not ended on no evidence
   */
  complete: boolean;
}

export interface Detector {
  readonly name: DetectorName;
  /** `open`: this detector's findings open before this evaluation */
  evaluate(now: Date, open: readonly FindingRow[]): Promise<DetectorResult>;
}

/** The processes of one Sidekiq instance, as JobManager's lost jobs judge them. */
/** Sidekiq's live processes and busy jids, and the reported process lives (see lost-rule.ts). */
export type ProcessWorld = ProcessEvidence;

export { processKey } from '../../jobs/processes/lost-rule.js';

/**
 * The history may hold jobs of an instance this copy is not configured for (removed from
 * SIDEKIQ_INSTANCES): nothing can be read of it, and no finding of it can be judged either way.
 */
export const isUnknownInstance = (error: unknown) =>
  error instanceof DomainError && error.code === 'INSTANCE_NOT_FOUND';
