/**
 * Free text that people will read in a spreadsheet or a console: names, addresses, references,
 * notes. It is checked in its NFKC form (so a full-width ＝ counts as =) and stored as sent.
 *
 * - It may not start with = + - @ (or a tab or carriage return): a spreadsheet opening a payment
 *   file or statement would run it as a formula (CSV injection); exports escape such values as
 *   well, this keeps them out in the first place.
 * - It may not hold control characters (Cc), format characters (Cf: the bidirectional overrides
 *   and isolates U+202A–U+202E and U+2066–U+2069, zero-width spaces and joiners U+200B–U+200D,
 *   U+2060, U+FEFF, the soft hyphen) or line and paragraph separators: they make a payee's name
 *   or a reference read differently from what is stored, e.g. an account name shown reversed.
 */
import { z } from 'zod';

const FORMULA_START = /^[=+\-@\t\r]/u;
const INVISIBLE_OR_CONTROL = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

export const SAFE_TEXT_FORMULA_REASON =
  'must not start with = + - or @ (a spreadsheet would read it as a formula)';
export const SAFE_TEXT_INVISIBLE_REASON = 'must not contain control, bidirectional or zero-width characters';

/** Why `value` is not safe text, or undefined when it is. */
export function unsafeTextReason(value: string): string | undefined {
  const normalized = value.normalize('NFKC');
  if (FORMULA_START.test(normalized)) return SAFE_TEXT_FORMULA_REASON;
  if (INVISIBLE_OR_CONTROL.test(normalized)) return SAFE_TEXT_INVISIBLE_REASON;
  return undefined;
}

/** A trimmed string of 1 to `max` characters that is safe text (see above). */
export function safeText(max: number, options: { min?: number } = {}) {
  return z
    .string()
    .trim()
    .min(options.min ?? 1)
    .max(max)
    .superRefine((value, context) => {
      const reason = unsafeTextReason(value);
      if (reason !== undefined) context.addIssue({ code: 'custom', message: reason });
    });
}
