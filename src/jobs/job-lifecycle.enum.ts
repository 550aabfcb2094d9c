export enum JobStatus {
  Scheduled = 'scheduled',
  Queued = 'queued',
  Running = 'running',
  Succeeded = 'succeeded',
  Failed = 'failed',
  Retrying = 'retrying',
  Dead = 'dead',
  Interrupted = 'interrupted',
  /** JobManager re-enqueued it as a new job (restarted_as) */
  Restarted = 'restarted',
  /** taken out of Sidekiq's scheduled set before it ran (POST /api/v1/jobs/:jid/cancel) */
  Cancelled = 'cancelled',
}

export enum JobEventType {
  Scheduled = 'scheduled',
  Queued = 'queued',
  Started = 'started',
  Succeeded = 'succeeded',
  Failed = 'failed',
  Retrying = 'retrying',
  Dead = 'dead',
  Interrupted = 'interrupted',
  /** written by JobManager's restart, never sent by clients */
  Restarted = 'restarted',
  /** written by the cancel route, never sent by clients */
  Cancelled = 'cancelled',
}

export const JOB_STATUSES = Object.values(JobStatus);
export const JOB_EVENT_TYPES = Object.values(JobEventType);
/** What Sidekiq apps may report. */
export const CLIENT_EVENT_TYPES = JOB_EVENT_TYPES.filter(
  (t) => t !== JobEventType.Restarted && t !== JobEventType.Cancelled,
);
