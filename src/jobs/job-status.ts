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
}

export const JOB_STATUSES = Object.values(JobStatus);
export const JOB_EVENT_TYPES = Object.values(JobEventType);
/** What Sidekiq apps may report. */
export const CLIENT_EVENT_TYPES = JOB_EVENT_TYPES.filter((t) => t !== JobEventType.Restarted);
