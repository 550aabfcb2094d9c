import { DomainError } from '../errors/domain-error.js';
import { describeFieldError, invalid, invalidFields } from './invalid.js';

describe('invalid', () => {
  it('gives VALIDATION_FAILED with the field in details.errors and a sentence as message', () => {
    const sut = invalid('to', 'must be after from');
    expect(sut).toBeInstanceOf(DomainError);
    expect(sut.code).toBe('VALIDATION_FAILED');
    expect(sut.message).toBe('to must be after from');
    expect(sut.details).toEqual({ errors: [{ field: 'to', message: 'must be after from' }] });
  });

  it('does not repeat a field that the message already names (class-validator messages)', () => {
    expect(
      describeFieldError({ field: 'limit', message: 'limit must not be greater than 500' }),
    ).toBe('limit must not be greater than 500');
    // a message that merely starts with the same letters still gets its field
    expect(describeFieldError({ field: 'at', message: 'attempts are too many' })).toBe(
      'at attempts are too many',
    );
  });

  it('lists every field of a many-field error, in order', () => {
    const sut = invalidFields([
      { field: 'job_id', message: 'is required' },
      { field: 'instance', message: 'instance must be an instance name' },
    ]);
    expect(sut.message).toBe('job_id is required; instance must be an instance name');
    expect(sut.details?.errors).toHaveLength(2);
  });
});
