/** The shape every check in this package returns: the normalized value, or why not. */
export type Check<Reason extends string> = { ok: true; value: string } | { ok: false; reason: Reason };

export function accepted<Reason extends string>(value: string): Check<Reason> {
  return { ok: true, value };
}

export function rejected<Reason extends string>(reason: Reason): Check<Reason> {
  return { ok: false, reason };
}
