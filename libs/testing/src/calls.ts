/** The JSON calls the suites' harnesses make to the service they test. */

/** JSON as a test reads it, by field and item. */
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type JsonList = any[]; // eslint-disable-line @typescript-eslint/no-explicit-any

/** An answer as a harness reads it: status, JSON body (`{}` when empty), content type and text. */
export interface JsonAnswer {
  status: number;
  body: Json;
  contentType: string | null;
  text: string;
}

export async function readAnswer(response: Response): Promise<JsonAnswer> {
  const text = await response.text();
  return {
    status: response.status,
    body: text === '' ? {} : JSON.parse(text),
    contentType: response.headers.get('content-type'),
    text,
  };
}

/** Sends `body` as JSON when given, with `token` as the bearer unless it is ''. */
export function sendJson(
  url: string,
  method: string,
  options: { token: string; body?: unknown },
): Promise<Response> {
  return fetch(url, {
    method,
    headers: {
      ...(options.token === '' ? {} : { authorization: `Bearer ${options.token}` }),
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
}

/** The entries `GET /v1/audit_events?<filter>` lists, oldest first (e.g. `rule_id=…`), and their actions. */
export async function auditTrail(
  harness: { call: (method: string, path: string) => Promise<{ body: Json }> },
  filter: string,
): Promise<{ entries: JsonList; actions: string[] }> {
  const trail = await harness.call('GET', `/v1/audit_events?${filter}`);
  const entries: JsonList = trail.body.data;
  return { entries, actions: entries.map((entry: { action: string }) => entry.action) };
}
