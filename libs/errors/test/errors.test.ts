import { Conflict, DomainError, NotFound, ValidationFailed } from '@puhui/errors';

describe('domain errors', () => {
  it('carry a stable code, a kind and extensions', () => {
    const error = new Conflict('illegal_transition', 'Cannot approve a draft.', { current_status: 'draft' });
    expect(error).toBeInstanceOf(DomainError);
    expect(error.code).toBe('illegal_transition');
    expect(error.kind).toBe('conflict');
    expect(error.detail).toBe('Cannot approve a draft.');
    expect(error.extensions).toEqual({ current_status: 'draft' });
    expect(error.name).toBe('Conflict');
  });

  it('list each invalid field of a validation failure', () => {
    const error = new ValidationFailed([
      { name: 'amount_minor', reason: 'must be positive' },
      { name: 'currency', reason: 'must be CNY' },
    ]);
    expect(error.kind).toBe('invalid');
    expect(error.invalidParams.map((param) => param.name)).toEqual(['amount_minor', 'currency']);
  });

  it('name what was not found', () => {
    expect(new NotFound('Merchant mer_1').detail).toBe('Merchant mer_1 was not found.');
  });
});
