/** A batch item whose sale's union subsidy is held, with the exception that holds it, if any. */
import type { HeldSubsidyItem } from '../domain/subsidy';

export function heldSubsidyView(item: HeldSubsidyItem) {
  return { object: 'held_subsidy' as const, ...item, currency: 'CNY' as const };
}
