import type { NextFunction, Request, Response } from 'express';

/** GitLab's REST API prefix: the routes here that GitLab's own API clients call. */
export const GITLAB_API_PREFIX = '/api/v4';

/** What GitLab's API (Grape, lib/api/api.rb: `content_type :json, 'application/json'`) sends. */
export const GITLAB_JSON_TYPE = 'application/json';

/**
 * Under /api/v4 every JSON body, success or error, goes out as GitLab sends it: `Content-Type:
 * application/json` with no charset parameter, and `X-Content-Type-Options: nosniff`.
 * python-gitlab 3.x parses a body only when the header equals `application/json` exactly; Express's
 * res.json adds `; charset=utf-8` to every string body, but leaves the type of a Buffer alone.
 * Replacing res.json here (not in one controller) covers the guard's 401/403, the filter's 503s and
 * unknown paths as well, since they all answer through res.json.
 */
export function gitlabJson(_req: Request, res: Response, next: NextFunction): void {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.json = function json(this: Response, body: unknown): Response {
    this.setHeader('Content-Type', GITLAB_JSON_TYPE);
    // JSON.stringify(undefined) is undefined: Express sends no body then, and so do we
    return this.send(Buffer.from(JSON.stringify(body) ?? '', 'utf8'));
  };
  next();
}
