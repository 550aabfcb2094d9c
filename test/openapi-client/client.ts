import type { paths } from '../../openapi/openapi.js';

// A minimal client typed only by the types openapi-typescript generates from the committed spec
// (openapi/openapi.d.ts): what a team generating a client from our spec gets.

export type Method = 'get' | 'post' | 'put' | 'delete';
type Op<P extends keyof paths, M extends Method> = NonNullable<paths[P][M]>;
type Json<R> = R extends { content: { 'application/json': infer B } } ? B : never;
type Responses<P extends keyof paths, M extends Method> =
  Op<P, M> extends { responses: infer R } ? R : never;
type Part<P extends keyof paths, M extends Method, K extends string> =
  Op<P, M> extends { parameters: { [k in K]?: infer Q } } ? Q : never;
type Body<P extends keyof paths, M extends Method> =
  Op<P, M> extends { requestBody?: { content: { 'application/json': infer B } } } ? B : never;

/** The JSON of the operation's 2xx answer, as the spec declares it. */
export type Success<P extends keyof paths, M extends Method> = Json<
  Responses<P, M>[Extract<keyof Responses<P, M>, 200 | 201>]
>;
/** The JSON of its error answers (every 4xx, 5xx and `default`). */
export type Failure<P extends keyof paths, M extends Method> = Json<
  Responses<P, M>[Exclude<keyof Responses<P, M>, 200 | 201>]
>;

export interface RequestParts<P extends keyof paths, M extends Method> {
  path?: Part<P, M, 'path'>;
  query?: Part<P, M, 'query'>;
  body?: Body<P, M>;
}

export class ApiError<P extends keyof paths, M extends Method> extends Error {
  constructor(
    readonly status: number,
    readonly body: Failure<P, M>,
  ) {
    super(`HTTP ${status}`);
  }
}

export class TypedClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
  ) {}

  async request<P extends keyof paths, M extends Method>(
    method: M,
    path: P,
    parts: RequestParts<P, M> = {},
  ): Promise<Success<P, M>> {
    const params = (parts.path ?? {}) as Record<string, string>;
    const url = new URL(
      String(path).replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(params[name])),
      this.baseUrl,
    );
    for (const [key, value] of Object.entries((parts.query ?? {}) as Record<string, unknown>)) {
      url.searchParams.set(key, String(value));
    }
    const response = await fetch(url, {
      method: method.toUpperCase(),
      headers: {
        'PRIVATE-TOKEN': this.token,
        ...(parts.body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      body: parts.body === undefined ? undefined : JSON.stringify(parts.body),
    });
    const json: unknown = await response.json();
    if (!response.ok) {
      throw new ApiError<P, M>(response.status, json as Failure<P, M>);
    }
    return json as Success<P, M>;
  }
}
