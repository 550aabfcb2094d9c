import type { IncomingHttpHeaders } from 'node:http';

/** What a request presents: a token (possibly empty: none), or two headers that disagree. */
export type Credential = { token: string } | { conflict: true };

// RFC 7235: the scheme is case-insensitive. Any visible characters after it, not only RFC 6750's
// token68: PRIVATE_TOKEN (the bootstrap admin) may be any string
const BEARER = /^bearer[ \t]+(\S+)$/i;

/**
 * The token of a request, from `PRIVATE-TOKEN` or `Authorization: Bearer` (as GitLab takes
 * either; Prometheus can send only the latter). Never from the query string. Both headers naming
 * different tokens is refused rather than picking one: a proxy that adds its own credential must
 * not silently win or lose. An `Authorization` header of another scheme (Basic) is not ours and is
 * ignored, and so is a Bearer value that is not one word (the request then has no token).
 */
export function credentialOf(headers: IncomingHttpHeaders): Credential {
  const privateToken = single(headers['private-token']);
  const authorization = single(headers.authorization);
  const bearer = BEARER.exec(authorization)?.[1] ?? '';
  if (privateToken && bearer && privateToken !== bearer) {
    return { conflict: true };
  }
  return { token: privateToken || bearer };
}

function single(value: string | string[] | undefined): string {
  const text = Array.isArray(value) ? value.join(',') : (value ?? '');
  return text.trim();
}
