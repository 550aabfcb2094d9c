import { Matches, type ValidationArguments, type ValidationOptions } from 'class-validator';

// Instance names and Sidekiq jids (24 hex characters from SecureRandom.hex(12)) share one rule:
// word characters only, so neither can carry a glob, a key separator or a control character.
export const NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const JID_PATTERN = NAME_PATTERN;
/** Queue names as Sidekiq accepts them in practice; no glob or control characters. */
export const QUEUE_PATTERN = /^[A-Za-z0-9_.:-]{1,200}$/;

export const NAME_RULE = '1 to 64 characters of A-Z a-z 0-9 _ -';
export const INSTANCE_MESSAGE = `must be an instance name (${NAME_RULE})`;
export const JID_MESSAGE = `must be a Sidekiq jid (${NAME_RULE})`;
export const QUEUE_MESSAGE = 'must be a queue name (letters, digits, _ . : -)';

export function isInstanceName(value: unknown): value is string {
  return typeof value === 'string' && NAME_PATTERN.test(value);
}

export function isJid(value: unknown): value is string {
  return typeof value === 'string' && JID_PATTERN.test(value);
}

function matching(pattern: RegExp, rule: string, options?: ValidationOptions): PropertyDecorator {
  return Matches(pattern, {
    ...options,
    message: (args: ValidationArguments) =>
      `${options?.each ? 'each of ' : ''}${args.property} ${rule}`,
  });
}

/** A Sidekiq instance name (SIDEKIQ_INSTANCES). */
export const IsInstanceName = (options?: ValidationOptions) =>
  matching(NAME_PATTERN, INSTANCE_MESSAGE, options);

/** A Sidekiq jid (`{ each: true }` for a list of them). */
export const IsJid = (options?: ValidationOptions) => matching(JID_PATTERN, JID_MESSAGE, options);

/** A Sidekiq queue name. */
export const IsQueueName = (options?: ValidationOptions) =>
  matching(QUEUE_PATTERN, QUEUE_MESSAGE, options);
