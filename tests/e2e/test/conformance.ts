/**
 * Every answer the end-to-end and chaos harnesses get from a service is checked against that
 * service's OpenAPI document, as each service's own test harness checks its answers against
 * its operations (libs/http conformance). The processes run the built services, so the
 * document is the one the running build serves at /openapi.json (its docs test proves that
 * equal to the committed docs/api/<service>.openapi.json).
 *
 * The documents are kept by origin (`http://127.0.0.1:<port>`) for the life of the test
 * process, so that every client of a service is checked, the typed clients sending through
 * `documentedFetch` and the chaos suites' raw `callService` included, without each call site
 * passing the document along.
 */
import { PLATFORM_OPERATIONS, assertDocumentedResponse, operationsFromOpenApi } from '@puhui/http';
import type { DocumentedAnswers } from '@puhui/http';

const DOCUMENT_TIMEOUT_MS = 10_000;

const documentsByOrigin = new Map<string, readonly DocumentedAnswers[]>();

function originOf(url: string): string {
  return new URL(url).origin;
}

/** Reads the document the service at `baseUrl` serves and checks its answers against it from now on. */
export async function learnDocument(baseUrl: string): Promise<number> {
  const response = await fetch(`${baseUrl}/openapi.json`, {
    signal: AbortSignal.timeout(DOCUMENT_TIMEOUT_MS),
  });
  if (response.status !== 200) throw new Error(`${baseUrl}/openapi.json answered ${response.status}`);
  const operations = operationsFromOpenApi(await response.json());
  documentsByOrigin.set(originOf(baseUrl), operations);
  return operations.length;
}

/** True for a JSON media type (`application/json`, `application/problem+json`). */
export function isJsonContentType(contentType: string | null): boolean {
  return /^application\/([a-z.-]+\+)?json\b/u.test(contentType ?? '');
}

export interface Answer {
  status: number;
  contentType: string | null;
  /** The text of the body as received. */
  text: string;
}

/**
 * Throws unless the service at `baseUrl` documents this answer to `method pathAndQuery`: an
 * operation for the method and path, the status, its content type and a body its schema
 * accepts. A service whose document was never read is an error, not an unchecked answer.
 */
export function expectDocumentedAnswer(
  baseUrl: string,
  method: string,
  pathAndQuery: string,
  answer: Answer,
): void {
  const operations = documentsByOrigin.get(originOf(baseUrl));
  if (operations === undefined) {
    throw new Error(
      `no OpenAPI document known for ${originOf(baseUrl)}: PuhuiSystem.start reads each service's /openapi.json`,
    );
  }
  assertDocumentedResponse(operations, observed(method, pathAndQuery, answer));
}

/**
 * The readiness probe's answer, checked before a service's document can be read (it is read
 * once the service is ready): /readyz is a platform operation, the same on every service.
 */
export function expectDocumentedReadiness(answer: Answer): void {
  assertDocumentedResponse(PLATFORM_OPERATIONS, observed('GET', '/readyz', answer));
}

function observed(method: string, pathAndQuery: string, answer: Answer) {
  let body: unknown = answer.text;
  // A JSON answer that does not parse stays text, which its schema then refuses.
  if (isJsonContentType(answer.contentType) && answer.text !== '') {
    try {
      body = JSON.parse(answer.text);
    } catch {
      body = answer.text;
    }
  }
  return { method, path: pathAndQuery, status: answer.status, contentType: answer.contentType, body };
}

/**
 * The `fetch` the typed clients (libs/api-clients) send through in these tests, the demo's
 * included: the answer is checked against the called service's document, then handed over
 * unread. The method and path checked are the sent Request's own.
 */
export async function documentedFetch(request: Request): Promise<Response> {
  const url = new URL(request.url);
  const response = await fetch(request);
  const text = await response.clone().text();
  expectDocumentedAnswer(url.origin, request.method, `${url.pathname}${url.search}`, {
    status: response.status,
    contentType: response.headers.get('content-type'),
    text,
  });
  return response;
}
