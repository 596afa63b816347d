/** zod schemas for HTTP bodies: a bad card number becomes a named field error, not a 500. */
import { z } from 'zod';
import { PAN_REJECTION_MESSAGES, checkUnionPayPan } from './pan';
import { CARD_TOKEN_PATTERN } from './token';

/**
 * A card number as typed → the normalized PAN. The issue's message is readable and its
 * `params.reason` is the machine reason (`luhn_failed`, ...). zod does not copy the input
 * into issues unless asked to, so the PAN never reaches an error body or a log line.
 */
export const cardNumberSchema = z.string().transform((input, context) => {
  const result = checkUnionPayPan(input);
  if (result.ok) return result.pan;
  context.addIssue({
    code: 'custom',
    message: PAN_REJECTION_MESSAGES[result.reason],
    params: { reason: result.reason },
  });
  return z.NEVER;
});

export const cardTokenSchema = z
  .string()
  .regex(CARD_TOKEN_PATTERN, 'must be a card token: ctok_ followed by 32 base64url characters');
