/**
 * How every service's HTTP server defends itself from what reaches it from outside (decision
 * 0018): the platform's body limit and arrival time (routes that need more say so themselves,
 * libs/http RouteOptions), slow senders, open connections, and callers that fail to authenticate.
 * Defined apart from the rest of platformEnvironment (which spreads it) so that they read together.
 */
import { z } from 'zod';

const positive = z.coerce.number().int().positive();
const SECOND = 1000;

export const HTTP_SETTINGS = {
  /** JSON bodies; a route that takes more (a preview) says so in its route options. */
  HTTP_BODY_LIMIT_BYTES: positive.default(100 * 1024),
  /**
   * Longest a request may take to arrive, body included (then 408 and the connection closed); a
   * route that streams a long upload (an import, a statement) says its own in its route options.
   */
  HTTP_REQUEST_TIMEOUT_MS: positive.default(30 * SECOND),
  /**
   * Longest the request line and headers may take (Node's headersTimeout): a slowloris client
   * trickling headers holds a socket this long at most. Curl sends them in one packet; 10 s is
   * generous for a mobile network and a tenth of the 60 s a proxy in front usually waits.
   */
  HTTP_HEADERS_TIMEOUT_MS: positive.default(10 * SECOND),
  /**
   * A body arriving slower than this, measured over HTTP_BODY_RATE_GRACE_MS, is a slow sender:
   * 408 and the connection closed. 1 KiB/s is a 2G link; a 100 KiB body at that rate fits in
   * the 30 s the platform allows, and a slowloris body (a byte every few seconds) is cut off
   * after the grace instead of holding the socket for the whole request timeout.
   */
  HTTP_BODY_RATE_BYTES_PER_SECOND_MIN: positive.default(1024),
  HTTP_BODY_RATE_GRACE_MS: positive.default(5 * SECOND),
  /**
   * Open connections one instance accepts (server.maxConnections); past it Node closes new
   * sockets at once. One connection costs a few KiB here; 1,024 is well inside the default
   * 1,024-descriptor limit left after the pools, and far more than the console and a city's POS
   * fleet keep open at once.
   */
  HTTP_CONNECTIONS_MAX: positive.default(1024),
  /**
   * Requests answered 401 (no credentials, unknown key, forged or expired token, no session)
   * one client address may get per HTTP_FAILED_AUTHENTICATION_WINDOW_MS; past it that address
   * gets 429 with Retry-After for everything but the probes and docs until the window ends.
   */
  HTTP_FAILED_AUTHENTICATIONS_PER_ADDRESS_MAX: positive.default(100),
  HTTP_FAILED_AUTHENTICATION_WINDOW_MS: positive.default(60 * SECOND),
  /** Addresses the failed-authentication count remembers at once (least recently seen forgotten first). */
  HTTP_FAILED_AUTHENTICATION_ADDRESSES_MAX: positive.default(10_000),
  /**
   * The service is reached over TLS (directly or through a proxy terminating it): answers carry
   * Strict-Transport-Security. Off on a developer machine, where plain http://127.0.0.1 is used.
   */
  HTTP_SERVED_OVER_TLS: z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .transform((value) => value === 'true' || value === '1' || value === 'yes')
    .default(false),
};
