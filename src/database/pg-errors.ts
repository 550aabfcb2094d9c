// Errors that mean "the database is not reachable right now" (→ 503, retry later), as opposed to
// errors in what we sent. SQLSTATE classes 08 (connection), 57P (operator intervention: shutdown,
// crash recovery), 53 (insufficient resources), and Node socket errors.
const UNAVAILABLE_NODE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
]);

export function isDatabaseUnavailable(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 5; depth++) {
    const err = e as { code?: unknown; message?: unknown; name?: unknown; cause?: unknown };
    const code = typeof err.code === 'string' ? err.code : '';
    const message = typeof err.message === 'string' ? err.message : '';
    if (
      UNAVAILABLE_NODE_CODES.has(code) ||
      code.startsWith('08') ||
      code.startsWith('57P') ||
      code.startsWith('53') ||
      err.name === 'ConnectionException' ||
      /Connection terminated|Timeout acquiring a connection|connect ECONNREFUSED|Client has encountered a connection error|terminating connection/i.test(
        message,
      )
    ) {
      return true;
    }
    e = err.cause;
  }
  return false;
}
