/**
 * @puhui/cards: card numbers are checked (UnionPay, Luhn), turned into keyed tokens and
 * their last 4 on arrival, and never stored or logged (DESIGN.md §8).
 */
export {
  CardNumberError,
  PAN_INPUT_LENGTH_MAX,
  PAN_REJECTION_MESSAGES,
  UNIONPAY_LENGTH_MAX,
  UNIONPAY_LENGTH_MIN,
  UNIONPAY_PREFIX,
  checkUnionPayPan,
  lastFour,
  luhnCheckDigit,
  luhnValid,
  normalizePan,
  requireUnionPayPan,
} from './pan';
export type { PanCheck, PanRejection } from './pan';
export {
  CARD_TOKEN_BODY_LENGTH,
  CARD_TOKEN_KEY_BYTES_MIN,
  CARD_TOKEN_PATTERN,
  CARD_TOKEN_PREFIX,
  isCardToken,
  tokenizePan,
} from './token';
export { generateTestPan, testPanSerialMax } from './test-pans';
export type { TestPanOptions } from './test-pans';
export { cardNumberSchema, cardTokenSchema } from './schemas';
