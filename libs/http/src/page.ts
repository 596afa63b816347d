import { z } from 'zod';

/** The schema of a page of `item`: DESIGN §10's `{ data, has_more }`, named `id` in the document. */
export function pageSchema<T extends z.ZodType>(item: T, id: string) {
  return z.strictObject({ data: z.array(item), has_more: z.boolean() }).meta({ id });
}
