export interface WebhookResult {
  delivered: boolean;
  statusCode: number | null;
  error: string | null;
}

const ERROR_CHARS = 500;

/**
 * POSTs `body` as JSON; a 2xx answer is delivered. Gives up after `timeoutMs` (connecting and
 * answering together). Redirects are not followed: a receiver's address is configured, and a
 * redirect could carry its headers (a token) elsewhere.
 */
export async function postWebhook(
  url: string,
  headers: Readonly<Record<string, string>>,
  body: unknown,
  timeoutMs: number,
): Promise<WebhookResult> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    // the answer's body is not needed; dropping it frees the connection
    await response.body?.cancel();
    const delivered = response.status >= 200 && response.status < 300;
    return {
      delivered,
      statusCode: response.status,
      error: delivered ? null : `HTTP ${response.status}`,
    };
  } catch (error) {
    return { delivered: false, statusCode: null, error: describe(error, timeoutMs) };
  }
}

function describe(error: unknown, timeoutMs: number): string {
  const e = error as {
    name?: string;
    message?: string;
    cause?: { code?: string; message?: string };
  };
  if (e.name === 'TimeoutError') {
    return `no answer within ${timeoutMs} ms`;
  }
  const cause = e.cause?.code ?? e.cause?.message;
  return `${e.message ?? String(error)}${cause ? ` (${cause})` : ''}`.slice(0, ERROR_CHARS);
}
