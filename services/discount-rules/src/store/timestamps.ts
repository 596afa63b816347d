export const isoOrNull = (value: Date | null): string | null => (value === null ? null : value.toISOString());
