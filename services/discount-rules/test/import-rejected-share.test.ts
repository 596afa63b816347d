import { exceedsRejectedShare } from '../src/domain/card-import';

const allowance = { rejectedShareMax: 0.05, rejectedRowsTolerated: 10 };
const fails = (rows_total: number, rejected: number) =>
  exceedsRejectedShare({ rows_total, rejected }, allowance);

describe('when an import has too many rejected rows (decision 0022)', () => {
  it('fails past the share, not at it', () => {
    expect(fails(1_000, 50)).toBe(false);
    expect(fails(1_000, 51)).toBe(true);
    expect(fails(1_000_000, 1_000_000)).toBe(true);
  });

  it('tolerates a few rejected rows in a small file whatever the share', () => {
    expect(fails(20, 10)).toBe(false);
    expect(fails(20, 11)).toBe(true);
    expect(fails(11, 11)).toBe(true);
    expect(fails(0, 0)).toBe(false);
  });

  it('with a share of 0 and nothing tolerated, one rejected row fails', () => {
    const strict = { rejectedShareMax: 0, rejectedRowsTolerated: 0 };
    expect(exceedsRejectedShare({ rows_total: 5_000, rejected: 1 }, strict)).toBe(true);
    expect(exceedsRejectedShare({ rows_total: 5_000, rejected: 0 }, strict)).toBe(false);
  });
});
