/**
 * Request rate limits shared by every instance of a service through Redis
 * (rate-limiter-flexible: a fixed window per key, counted by one Lua script). When Redis does
 * not answer, a per-process limit with the same figures takes over, so an outage neither
 * blocks callers nor lifts the limit.
 */
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Redis } from 'ioredis';

export interface RateLimitSettings {
  redis: Redis;
  /** Requests each key may make per window. */
  points: number;
  windowSeconds: number;
  /** Distinguishes this limit's counters from other limits' (inside the client's key prefix). */
  name: string;
}

export type RateLimitOutcome = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export interface RateLimiter {
  consume(key: string): Promise<RateLimitOutcome>;
}

export function createRateLimiter(settings: RateLimitSettings): RateLimiter {
  const figures = {
    points: settings.points,
    duration: settings.windowSeconds,
    keyPrefix: `ratelimit:${settings.name}`,
  };
  const limiter = new RateLimiterRedis({
    ...figures,
    storeClient: settings.redis,
    rejectIfRedisNotReady: true,
    insuranceLimiter: new RateLimiterMemory(figures),
  });
  return {
    consume: async (key) => {
      try {
        await limiter.consume(key);
        return { allowed: true };
      } catch (outcome) {
        if (outcome instanceof RateLimiterRes) {
          return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(outcome.msBeforeNext / 1000)) };
        }
        throw outcome;
      }
    },
  };
}
