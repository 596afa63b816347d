import { z } from 'zod';
import {
  branchCodeSchema,
  creditCodeSchema,
  mobileSchema,
  regionCodeSchema,
  residentIdSchema,
} from '@puhui/kyc';

const TODAY = '2025-06-01';

function issuesOf(schema: z.ZodType, input: unknown) {
  const result = schema.safeParse(input);
  expect(result.success).toBe(false);
  return result.error?.issues ?? [];
}

describe('schemas', () => {
  it('output the normalized values', () => {
    expect(creditCodeSchema.parse(' 9144030071526726xg')).toBe('9144030071526726XG');
    expect(residentIdSchema(TODAY).parse('11010519491231002x')).toBe('11010519491231002X');
    expect(mobileSchema.parse('+86 138 0013 8000')).toBe('13800138000');
    expect(branchCodeSchema.parse('102100099996')).toBe('102100099996');
    expect(regionCodeSchema.parse('361100')).toBe('361100');
  });

  it('check a whole application body at once, naming each bad field', () => {
    const application = z.strictObject({
      credit_code: creditCodeSchema,
      legal_representative_id: residentIdSchema(TODAY),
      contact_mobile: mobileSchema,
      settlement_branch_code: branchCodeSchema,
      region_code: regionCodeSchema,
    });
    const issues = issuesOf(application, {
      credit_code: '91350100M000100Y44',
      legal_representative_id: '361102202506020014',
      contact_mobile: '12800138000',
      settlement_branch_code: '10210009999',
      region_code: '991100',
    });
    expect(issues.map((issue) => [issue.path.join('.'), issue.message])).toEqual([
      ['credit_code', 'is not a valid unified social credit code (check character mismatch)'],
      ['legal_representative_id', 'must carry a real birth date from 1900 up to today'],
      ['contact_mobile', 'must be a mainland China mobile number (1 and a digit from 3 to 9, optional +86)'],
      ['settlement_branch_code', 'must have 12 digits'],
      ['region_code', 'must start with a province-level code (e.g. 36 for Jiangxi)'],
    ]);
  });

  it.each([
    [creditCodeSchema, '91350100M000100I43', 'bad_character'],
    [creditCodeSchema, '9135', 'wrong_length'],
    [residentIdSchema(TODAY), '361102199001011231', 'check_digit_mismatch'],
    [residentIdSchema(TODAY), '3611021990010112', 'wrong_length'],
    [residentIdSchema(TODAY), '36110219900101123Y', 'bad_character'],
    [mobileSchema, '138 0013 800O', 'bad_character'],
    [mobileSchema, '1380013800', 'wrong_length'],
    [branchCodeSchema, '10210009999A', 'bad_character'],
    [regionCodeSchema, '36110A', 'bad_character'],
    [regionCodeSchema, '3611', 'wrong_length'],
  ])('carry the machine reason: %#', (schema: z.ZodType, input, reason) => {
    const issues = issuesOf(schema, input);
    expect(issues).toEqual([expect.objectContaining({ code: 'custom', params: { reason } })]);
  });

  it('never echo an ID number into the error', () => {
    const issues = issuesOf(residentIdSchema(TODAY), '361102199001011231');
    expect(JSON.stringify(issues)).not.toContain('361102199001011231');
  });

  it('reject values that are not strings', () => {
    for (const schema of [
      creditCodeSchema,
      residentIdSchema(TODAY),
      mobileSchema,
      branchCodeSchema,
      regionCodeSchema,
    ]) {
      expect(schema.safeParse(13800138000).success).toBe(false);
    }
  });
});
