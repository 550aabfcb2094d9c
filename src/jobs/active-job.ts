// Active Job and Action Mailer jobs reach Sidekiq wrapped: `class` is the adapter's wrapper and
// `args[0]` the serialized Active Job (job_class, job_id, arguments, ...). The job history keeps
// what Sidekiq's Web UI shows (JobRecord#display_class / #display_args, the same pure code as the
// Redis side) and the wrapper's own class and arguments beside it.
import { type ExactJson, parseExact, stringifyExact } from '../common/json/ruby-json.js';
import { unstorable, withinBytes } from '../common/validation/text-rules.js';
import { DisplayRules, displayOf } from '../sidekiq/payload/job-record.js';
import { rawMember } from '../sidekiq/payload/payload-edit.js';
import { type JsonValue } from '../sidekiq/payload/payload-values.js';

/** The class names Active Job's Sidekiq adapter pushes (Rails ≤ 7.1 / Sidekiq ≥ 7.0's own). */
export const ACTIVE_JOB_WRAPPERS: ReadonlySet<string> = new Set([
  'ActiveJob::QueueAdapters::SidekiqAdapter::JobWrapper',
  'Sidekiq::ActiveJob::Wrapper',
]);

// Stored wrapped jobs are shown with Sidekiq 7.1+'s rules (GlobalID hashes as their gid string,
// `_aj_*` keys dropped, a mail's params and args): one readable form whatever Sidekiq version
// reported it; the wrapper's arguments are kept as sent (raw_arguments).
const RULES = DisplayRules.Modern;
/** Active Job's job_id shares an index row with nothing else, but stays a short identifier. */
export const MAX_ACTIVE_JOB_ID_BYTES = 255;

export interface UnwrappedJob {
  /** display_class: the job's class, or `Mailer#method` for a mail delivery */
  jobClass: string;
  /** display_args as JSON text, numbers exactly as the client wrote them */
  arguments: string;
  wrapperClass: string;
  /** the wrapper's args, exactly as sent */
  rawArguments: string;
  activeJobId: string | null;
}

const isObject = (v: unknown): v is Record<string, JsonValue> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The real class and arguments of a wrapped Active Job, from the event's `job_class` and
 * `arguments` (the wrapper's args as JSON text) or, when those are missing, its `payload`.
 * Null for any other job, and for a wrapper whose args do not hold a serialized Active Job
 * (then the job is stored as it was reported).
 */
export function unwrapActiveJob(
  jobClass: string | null,
  argumentsText: string | null,
  payloadText: string | null,
  maxClassBytes: number,
): UnwrappedJob | null {
  let payload: Record<string, unknown> | null = null;
  const readPayload = () => {
    if (payload === null && payloadText !== null) {
      try {
        const parsed: unknown = JSON.parse(payloadText);
        payload = isObject(parsed) ? parsed : {};
      } catch {
        payload = {};
      }
    }
    return payload ?? {};
  };
  let wrapper = jobClass;
  if (wrapper === null && payloadText !== null) {
    const klass = readPayload().class;
    wrapper = typeof klass === 'string' ? klass : null;
  }
  if (wrapper === null || !ACTIVE_JOB_WRAPPERS.has(wrapper)) {
    return null;
  }
  const rawArguments =
    argumentsText ?? (payloadText === null ? null : rawMember(payloadText, 'args'));
  if (rawArguments === null) {
    return null;
  }
  let args: ExactJson;
  try {
    args = parseExact(rawArguments);
  } catch {
    return null;
  }
  if (!Array.isArray(args)) {
    return null;
  }
  const serialized = args[0];
  if (!isObject(serialized) || typeof serialized.job_class !== 'string') {
    return null;
  }
  // Rails' adapter pushes `wrapped` (the job's class, the same as job_class): the display rules
  // read it. Events other than the first carry no payload, so job_class stands in for it.
  const sentWrapped = readPayload().wrapped;
  const wrapped = typeof sentWrapped === 'string' ? sentWrapped : serialized.job_class;
  const { displayClass, displayArgs } = displayOf({ class: wrapper, wrapped, args }, RULES);
  if (
    displayClass === null ||
    displayClass.length === 0 ||
    !withinBytes(displayClass, maxClassBytes) ||
    unstorable(displayClass)
  ) {
    return null;
  }
  const jobId = serialized.job_id;
  return {
    jobClass: displayClass,
    arguments: stringifyExact(displayArgs) ?? '[]',
    wrapperClass: wrapper,
    rawArguments,
    activeJobId:
      typeof jobId === 'string' &&
      jobId.length > 0 &&
      withinBytes(jobId, MAX_ACTIVE_JOB_ID_BYTES) &&
      !unstorable(jobId)
        ? jobId
        : null,
  };
}
