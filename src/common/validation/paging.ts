import { ValidateBy, type ValidationArguments, type ValidationOptions } from 'class-validator';

/**
 * The deepest row any offset-paged list skips to. Postgres (and Redis LRANGE) walk every skipped
 * row, so a deep offset costs as much as reading them all; GitLab caps offset pagination at the
 * same 50,000. Past it the client narrows the window (from/to) or uses a cursor.
 */
export const MAX_OFFSET = 50_000;

export const OFFSET_HINT = `must be at most ${MAX_OFFSET}; narrow the window with from/to instead of paging further`;

/** null when `offset` is a whole number from 0 to MAX_OFFSET, else what is wrong with it. */
export function offsetProblem(offset: unknown): string | null {
  if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0) {
    return 'must be a whole number ≥ 0';
  }
  return offset > MAX_OFFSET ? OFFSET_HINT : null;
}

/**
 * On a 1-based `page` with a `per_page` sibling: the rows skipped, (page − 1) · per_page, stay
 * within MAX_OFFSET.
 */
export function PageWithinMaxOffset(
  defaultPerPage: number,
  options?: ValidationOptions,
): PropertyDecorator {
  return ValidateBy(
    {
      name: 'pageWithinMaxOffset',
      validator: {
        validate: (page: unknown, args?: ValidationArguments) => {
          const perPage = (args?.object as { per_page?: unknown } | undefined)?.per_page;
          const size = typeof perPage === 'number' && perPage > 0 ? perPage : defaultPerPage;
          return typeof page !== 'number' || (page - 1) * size <= MAX_OFFSET;
        },
        defaultMessage: () =>
          `page must not skip more than ${MAX_OFFSET} jobs ((page − 1) × per_page); page from the other end (direction) or narrow with search instead`,
      },
    },
    options,
  );
}
