/**
 * A card's rate sheet at checkout (DESIGN §7): from Redis under the current ruleset version,
 * else read through from discount-rules over HTTP with a short timeout behind a circuit
 * breaker. When neither answers the checkout is refused with 503 and nothing is posted.
 * A sheet in Redis is used only if discount-rules' signature over it and its key holds
 * (decision 0015); any other value is a miss, and logged.
 */
import CircuitBreaker from 'opossum';
import { serviceClient } from '@puhui/api-clients';
import type { ServiceClient } from '@puhui/api-clients';
import { RULESET_VERSION_KEY, rateSheetKey, rateSheetKeyIdentity, rateSheetSchema } from '@puhui/discount';
import type { RateSheet } from '@puhui/discount';
import { ServiceUnavailable, Unprocessable } from '@puhui/errors';
import { openCacheValue } from '@puhui/cache';
import type { Redis } from '@puhui/cache';
import type { Logger } from '@puhui/logging';
import { countRateSheetLookup } from '../metrics/rate-sheet-lookups';

export interface RateSheetSettings {
  redis: Redis;
  logger: Logger;
  discountRulesUrl: string;
  timeoutMs: number;
  /** SERVICE_CREDENTIAL: discount-rules admits it for rate sheets only (role rate_sheet_reader). */
  serviceCredential: string;
  /** RATE_SHEET_SIGNING_KEY: the key discount-rules signs the sheets in Redis with. */
  signingKey: string;
}

class UnknownCard extends Unprocessable {
  constructor() {
    super('unknown_card', 'This card is not registered in the programme.');
  }
}

/** Open the circuit after half of at least 5 calls in the window failed; try again after 5 s. */
const BREAKER = {
  errorThresholdPercentage: 50,
  volumeThreshold: 5,
  resetTimeout: 5000,
  rollingCountTimeout: 10_000,
};

/** Counts a lookup that found no usable sheet in Redis; nothing to return. */
function missed(result: 'miss' | 'error'): undefined {
  countRateSheetLookup(result);
  return undefined;
}

export class RateSheets {
  private readonly settings: RateSheetSettings;
  private readonly breaker: CircuitBreaker<[string], RateSheet | undefined>;
  private readonly discountRules: ServiceClient<'discount-rules'>;

  constructor(settings: RateSheetSettings) {
    this.settings = settings;
    this.discountRules = serviceClient<'discount-rules'>(settings.discountRulesUrl, {
      token: settings.serviceCredential,
      timeoutMs: settings.timeoutMs,
    });
    this.breaker = new CircuitBreaker((cardToken: string) => this.fetchFromService(cardToken), {
      ...BREAKER,
      timeout: settings.timeoutMs,
      // A 404 (unknown card) is an answer, not a failure of discount-rules.
      errorFilter: (error: unknown) => error instanceof UnknownCard,
    });
    this.breaker.on('open', () =>
      settings.logger.warn('rate sheet circuit opened: discount-rules is failing'),
    );
    this.breaker.on('close', () => settings.logger.info('rate sheet circuit closed'));
  }

  async forCard(cardToken: string): Promise<RateSheet> {
    const cached = await this.fromCache(cardToken);
    if (cached !== undefined) return cached;
    try {
      const sheet = await this.breaker.fire(cardToken);
      if (sheet === undefined) throw new UnknownCard();
      return sheet;
    } catch (error) {
      if (error instanceof UnknownCard) throw error;
      throw new ServiceUnavailable(
        'rate_sheet_unavailable',
        'The discount rates for this card cannot be read right now; nothing was charged. Try again shortly.',
        error,
      );
    }
  }

  shutdown(): void {
    this.breaker.shutdown();
  }

  /** Undefined on a miss or when Redis does not answer: a cache is never the reason to fail. */
  private async fromCache(cardToken: string): Promise<RateSheet | undefined> {
    try {
      const version = await this.settings.redis.get(RULESET_VERSION_KEY);
      if (version === null) return missed('miss');
      const key = rateSheetKey(Number(version), cardToken);
      const stored = await this.settings.redis.get(key);
      if (stored === null) return missed('miss');
      const opened = openCacheValue(this.settings.signingKey, key, stored);
      if (!opened.ok) {
        countRateSheetLookup('invalid');
        this.settings.logger.warn(
          { key: rateSheetKeyIdentity(Number(version)), reason: opened.reason },
          'rate sheet in Redis refused: its signature does not hold (treated as a miss)',
        );
        return undefined;
      }
      const parsed = rateSheetSchema.safeParse(JSON.parse(opened.value));
      if (!parsed.success)
        this.settings.logger.warn({ issues: parsed.error.issues.length }, 'bad rate sheet in cache ignored');
      countRateSheetLookup(parsed.success ? 'hit' : 'invalid');
      return parsed.success ? parsed.data : undefined;
    } catch (error) {
      this.settings.logger.debug({ err: error }, 'rate sheet cache unavailable');
      return missed('error');
    }
  }

  private async fetchFromService(cardToken: string): Promise<RateSheet | undefined> {
    const { data, response } = await this.discountRules.GET('/v1/cards/{token}/rate_sheet', {
      params: { path: { token: cardToken } },
    });
    if (response.status === 404) throw new UnknownCard();
    if (!response.ok) throw new Error(`discount-rules answered ${response.status}`);
    return rateSheetSchema.parse(data);
  }
}
