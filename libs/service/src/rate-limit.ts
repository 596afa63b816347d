/**
 * Requests made with a merchant secret key are limited per key (DESIGN §8), before the key is
 * even looked up: a runaway POS loop or a key-guessing script gets 429 with Retry-After, and
 * every instance of a service counts against the same Redis counters.
 */
import type { RequestHandler } from 'express';
import { createRateLimiter } from '@puhui/cache';
import type { Redis } from '@puhui/cache';
import { RateLimited } from '@puhui/errors';
import { bearerCredential, hashApiKey, looksLikeApiKey } from '@puhui/security';

export function merchantKeyRateLimit(redis: Redis, perSecond: number): RequestHandler {
  const limiter = createRateLimiter({ redis, points: perSecond, windowSeconds: 1, name: 'merchant_key' });
  return async (request, _response, next) => {
    const credential = bearerCredential(request.header('authorization'));
    if (credential === undefined || !looksLikeApiKey(credential)) {
      next();
      return;
    }
    const outcome = await limiter.consume(hashApiKey(credential));
    if (!outcome.allowed) throw new RateLimited(outcome.retryAfterSeconds);
    next();
  };
}
