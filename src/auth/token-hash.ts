import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const TOKEN_PREFIX = 'sks_';

/** SHA-256 of a token: 32 bytes (what is compared) or hex (what is stored). */
export function tokenDigest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

export function hashToken(token: string): string {
  return tokenDigest(token).toString('hex');
}

/** Constant time in the token's content: digests (always 32 bytes) are compared, never the texts. */
export function digestsMatch(a: Buffer, b: Buffer): boolean {
  return timingSafeEqual(a, b);
}

export function generateToken(): string {
  return TOKEN_PREFIX + randomBytes(30).toString('base64url');
}
