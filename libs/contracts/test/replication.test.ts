import { REPLICATION_WINDOW_MS, idCreatedAt, mayBeReplicating, newId } from '@puhui/contracts';

describe('ids not yet replicated', () => {
  const now = Date.UTC(2026, 11, 1, 6, 30);

  it('read the time an id was minted, and nothing from another string', () => {
    expect(idCreatedAt(newId('mer', now), 'mer')).toBe(now);
    expect(idCreatedAt(newId('mer', now), 'bud')).toBeUndefined();
    expect(idCreatedAt('mer_unknown', 'mer')).toBeUndefined();
  });

  it.each([
    ['minted just now', now, true],
    ['minted at the window’s end', now - REPLICATION_WINDOW_MS, true],
    ['minted before the window', now - REPLICATION_WINDOW_MS - 1, false],
    ['from a clock a little ahead', now + 30_000, true],
    ['from the future', now + 10 * 60_000, false],
    ['without a time', undefined, false],
  ])('may be on its way when %s: %s', (_what, createdAt, expected) => {
    expect(mayBeReplicating(createdAt, now)).toBe(expected);
  });
});
