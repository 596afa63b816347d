/** How a card import is shown: its counts, the rows it refused, and whether that list is cut short. */
import type { CardImport } from '../domain/card-import';

export function cardImportView(cardImport: CardImport) {
  return { ...cardImport, errors_truncated: cardImport.rejected > cardImport.errors.length };
}
