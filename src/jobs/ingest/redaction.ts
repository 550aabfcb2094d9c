// The one place where what a job reports is redacted before storage (README "Redaction"): the
// event parser and the service's own events (restart, cancel) both come through here, so the
// arguments, payload, error and the Active Job unwrapped from them agree.
import { REDACTED_ARGS, Redactor } from '../../common/redaction/redactor.js';
import { unwrapActiveJob, type UnwrappedJob } from '../active-job.js';
import { MAX_NAME_BYTES } from './limits.js';

export interface ReportedJob {
  jobClass: string | null;
  arguments: string | null;
  payload: string | null;
  /** the client's own unwrapping of an Active Job (display_class, display_args, active_job_id) */
  unwrapped?: Omit<UnwrappedJob, 'rawArguments'> | null;
}

export interface StoredJob {
  jobClass: string | null;
  arguments: string | null;
  payload: string | null;
  wrapperClass: string | null;
  rawArguments: string | null;
  activeJobId: string | null;
}

/**
 * The job as it is stored: its arguments, the wrapper's arguments and the payload with their
 * sensitive keys' values and the value rules' matches replaced, then unwrapped (an Active Job's
 * class and arguments come from the redacted wrapper's). A class the rules hide keeps
 * `["[REDACTED]"]` as its arguments (and as its payload's `args`).
 */
export function storedJob(redactor: Redactor, job: ReportedJob): StoredJob {
  const args = job.arguments === null ? null : redactor.redactJsonText(job.arguments);
  const payload =
    job.payload === null ? null : redactor.redactJsonText(job.payload, { payload: true });
  const sent = job.unwrapped;
  const wrapped =
    sent !== undefined && sent !== null
      ? {
          ...sent,
          arguments: redactor.redactJsonText(sent.arguments),
          rawArguments: args,
        }
      : unwrapActiveJob(job.jobClass, args, payload, MAX_NAME_BYTES);
  const stored: StoredJob = {
    jobClass: wrapped?.jobClass ?? job.jobClass,
    arguments: wrapped?.arguments ?? args,
    payload,
    wrapperClass: wrapped?.wrapperClass ?? null,
    rawArguments: wrapped?.rawArguments ?? null,
    activeJobId: wrapped?.activeJobId ?? null,
  };
  if (redactor.hidesClass(stored.jobClass) || redactor.hidesClass(job.jobClass)) {
    stored.arguments = REDACTED_ARGS;
    stored.rawArguments = stored.wrapperClass === null ? null : REDACTED_ARGS;
    stored.payload = payload === null ? null : redactor.payloadWithoutArgs(payload);
  }
  return stored;
}
