import { DomainError } from '../errors/domain-error.js';

/** One field at fault: `field` is a path (`events[3].job_id`), `message` says what is wrong. */
export interface FieldError {
  field: string;
  message: string;
}

/**
 * How one field error reads in a sentence: `limit must be …`. class-validator's messages already
 * start with the property name; ours do not, so the field is put in front only when missing.
 */
export function describeFieldError({ field, message }: FieldError): string {
  return message.startsWith(`${field} `) ? message : `${field} ${message}`;
}

/**
 * The one VALIDATION_FAILED error: every field at fault in `details.errors`, and a message that
 * lists them for a person.
 */
export function invalidFields(errors: FieldError[]): DomainError {
  return new DomainError('VALIDATION_FAILED', errors.map(describeFieldError).join('; '), {
    errors,
  });
}

/** VALIDATION_FAILED for one field. */
export function invalid(field: string, message: string): DomainError {
  return invalidFields([{ field, message }]);
}
