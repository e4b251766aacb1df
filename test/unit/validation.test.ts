import { describe, expect, it } from 'vitest';
import { passwordProblem, usernameProblem, validateFields } from '../../src/core/validation.js';
import { GatekeeperError } from '../../src/errors.js';

describe('password policies', () => {
  it.each([
    ['Sup3r-Secret!', null],
    ['short1!A', null],
    ['Abc1!', 'characters long'],
    ['alllowercase1!', 'an uppercase letter'],
    ['ALLUPPERCASE1!', 'a lowercase letter'],
    ['NoDigitsHere!', 'a digit'],
    ['NoSpecials123', 'a special character'],
    ['A'.repeat(60) + 'a'.repeat(60) + '1!' + 'x'.repeat(10), 'characters long'],
  ])('reynard policy: %s', (password, problem) => {
    const result = passwordProblem(password, 'reynard');
    if (problem === null) expect(result).toBeNull();
    else expect(result).toContain(problem);
  });

  it('nist policy: length and common passwords only, no composition rules', () => {
    expect(passwordProblem('correct horse battery staple', 'nist')).toBeNull();
    expect(passwordProblem('alllowercase', 'nist')).toBeNull();
    expect(passwordProblem('Password123', 'nist')).toContain('too common');
    expect(passwordProblem('short', 'nist')).toContain('characters long');
  });

  it('usernames: 3–50 of [A-Za-z0-9_-]', () => {
    expect(usernameProblem('ok_name-1')).toBeNull();
    expect(usernameProblem('ab')).not.toBeNull();
    expect(usernameProblem('x'.repeat(51))).not.toBeNull();
    expect(usernameProblem('émile')).not.toBeNull();
  });

  it('validateFields() reports every problem at once, with NUL bytes always invalid', () => {
    try {
      validateFields(
        { username: 'a b', email: 'bad', password: { field: 'password', value: 'Abcdefg1!\0' } },
        'reynard',
      );
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(GatekeeperError);
      const e = err as GatekeeperError;
      expect(e.code).toBe('VALIDATION_ERROR');
      expect(e.errors?.map((x) => x.field)).toEqual(['username', 'email', 'password']);
      expect(e.errors?.[2]?.message).toContain('NUL');
    }
  });
});
