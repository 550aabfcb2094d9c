export enum JobStatus {
  Scheduled = 'scheduled',
  Queued = 'queued',
  Running = 'running',
  Succeeded = 'succeeded',
  Failed = 'failed',
  Retrying = 'retrying',
  Dead = 'dead',
  Interrupted = 'interrupted',
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
}

export const JOB_STATUSES = Object.values(JobStatus);
export const JOB_EVENT_TYPES = Object.values(JobEventType);
