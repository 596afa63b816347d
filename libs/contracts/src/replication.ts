/**
 * Whether an id one service minted may still be on its way to another service's replica
 * (a merchant just approved, a key just created, a budget just defined): such an id, unknown
 * here, answers `not_yet_available` (503, Retry-After), which a client retries, instead of a
 * 400/401/404 it would read as permanent. Only for an id whose own time part says it is new:
 * past the window, or from the future, an unknown id is wrong, not late, so a wrong id never
 * answers "retry" for long.
 */

/**
 * Replication takes well under a second while the services and Kafka run (the end-to-end
 * suite prints it); five minutes also covers a broker restart, whose outages the chaos suite
 * keeps to 10 s.
 */
export const REPLICATION_WINDOW_MS = 5 * 60_000;
/** The services' clocks may differ a little; an id up to this far ahead still counts as new. */
const CLOCK_SKEW_MS = 60_000;
export const NOT_YET_AVAILABLE_RETRY_AFTER_SECONDS = 1;

/** True when something created at `createdAtMs` may not have been replicated yet at `now`. */
export function mayBeReplicating(createdAtMs: number | undefined, now: number = Date.now()): boolean {
  return (
    createdAtMs !== undefined &&
    createdAtMs <= now + CLOCK_SKEW_MS &&
    now - createdAtMs <= REPLICATION_WINDOW_MS
  );
}
