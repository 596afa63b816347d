/**
 * Masked forms of people's names and e-mail addresses, for screens, audit rows, approval
 * requests, events and logs (PIPL, DESIGN §8; decision 0016). Mobiles, ID and account numbers
 * are masked by @puhui/kyc (`138****1466`, `361***********1234`, `**** **** 7894`). The rules are
 * repeated in SQL by merchant-onboarding's migration 0004, which masks old audit rows: change
 * both or neither.
 */

/** A name of this many characters or more keeps two: 欧阳, 司马, 诸葛… (four-character names mostly have one). */
const NAME_LENGTH_KEEPING_TWO = 4;

/**
 * "张三" → "张*", "王小明" → "王**", "欧阳娜娜" → "欧阳**": the surname stays, every other
 * character is a `*`, counted in characters (code points), not UTF-16 units. One character or
 * none is `*`: a lone character would be the whole name.
 */
export function maskPersonName(name: string): string {
  const characters = Array.from(name.trim());
  if (characters.length <= 1) return '*';
  const kept = characters.length >= NAME_LENGTH_KEEPING_TWO ? 2 : 1;
  return characters.slice(0, kept).join('') + '*'.repeat(characters.length - kept);
}

/**
 * "zhang.san@example.com" → "z***@example.com": the first character of the mailbox and the
 * domain stay, three `*` whatever the mailbox's length. Anything without a mailbox and a domain
 * is `***`.
 */
export function maskEmail(email: string): string {
  const text = email.trim();
  const at = text.lastIndexOf('@');
  const mailbox = Array.from(text.slice(0, Math.max(at, 0)));
  const domain = text.slice(at + 1);
  if (at < 0 || mailbox.length === 0 || domain === '') return '***';
  return `${mailbox[0] ?? ''}***@${domain}`;
}
