import type { Redis } from 'ioredis';

export interface CronJobSpec {
  name: string;
  cron?: string;
  klass?: string;
  queue?: string;
  /** JSON text */
  args?: string;
  status?: 'enabled' | 'disabled';
}

/**
 * Saves a cron job the way sidekiq-cron 1.8's Job#save does (SADD cron_jobs, HMSET of to_hash
 * with nil as ""), in the layout captured from the gem by test/ruby/sidekiq_cron.rb.
 */
export async function saveCronJob(redis: Redis, spec: CronJobSpec): Promise<void> {
  const klass = spec.klass ?? 'CleanupJob';
  const args = spec.args ?? '[]';
  await redis
    .multi()
    .sadd('cron_jobs', `cron_job:${spec.name}`)
    .hset(`cron_job:${spec.name}`, {
      name: spec.name,
      klass,
      cron: spec.cron ?? '*/5 * * * *',
      description: '',
      args,
      date_as_argument: 'false',
      message: JSON.stringify({
        retry: true,
        queue: spec.queue ?? 'default',
        class: klass,
        args: JSON.parse(args),
      }),
      status: spec.status ?? 'enabled',
      active_job: 'false',
      queue_name_prefix: '',
      queue_name_delimiter: '',
      last_enqueue_time: '',
      symbolize_args: 'false',
    })
    .exec();
}
