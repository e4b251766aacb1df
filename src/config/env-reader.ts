/**
 * Reading one environment object for loadConfig (src/config.ts): every helper
 * returns a usable fallback and records what was wrong, so all problems are
 * reported at once.
 */

/** The environment loadConfig reads: process.env or a literal object (tests, the CLI). */
export type Env = Record<string, string | undefined>;

const TRUE_WORDS = ['true', '1', 'yes', 'on'];
const FALSE_WORDS = ['false', '0', 'no', 'off'];

/** JSON quoting keeps each problem on one line even if the value holds a newline. */
export const show = (value: string): string => JSON.stringify(value);

/** Reads one env object; every helper returns a usable fallback and records what was wrong. */
export function createReader(env: Env, problems: string[]) {
  // An empty string counts as unset: `FOO=` in a compose file or .env should mean "default".
  const raw = (name: string): string | undefined => {
    const value = env[name];
    return value === undefined || value === '' ? undefined : value;
  };

  const whole = (name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number => {
    const value = raw(name);
    if (value === undefined) return fallback;
    // A strict pattern, because Number() would accept " ", "1e3", "0x10" and parseInt() "1.5" or "10abc".
    const n = /^[0-9]+$/.test(value) ? Number(value) : NaN;
    if (Number.isSafeInteger(n) && n >= min && n <= max) return n;
    const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `from ${min} to ${max}`;
    problems.push(`${name} must be a whole number ${range} (got ${show(value)})`);
    return fallback;
  };

  const positive = (name: string, fallback: number): number => {
    const value = raw(name);
    if (value === undefined) return fallback;
    const n = /^[0-9]+(\.[0-9]+)?$/.test(value) ? Number(value) : NaN;
    if (n > 0 && Number.isFinite(n)) return n;
    problems.push(`${name} must be a number > 0, e.g. 30 or 2.5 (got ${show(value)})`);
    return fallback;
  };

  const bool = (name: string, fallback: boolean): boolean => {
    const value = raw(name);
    if (value === undefined) return fallback;
    const word = value.toLowerCase();
    if (TRUE_WORDS.includes(word)) return true;
    if (FALSE_WORDS.includes(word)) return false;
    problems.push(`${name} must be one of ${[...TRUE_WORDS, ...FALSE_WORDS].join(', ')} (got ${show(value)})`);
    return fallback;
  };

  const oneOf = <T extends string, F extends T | null>(
    name: string,
    allowed: readonly T[],
    fallback: F,
    anyCase = false,
  ) => {
    const value = raw(name);
    if (value === undefined) return fallback;
    const found = allowed.find((a) => a === value || (anyCase && a.toUpperCase() === value.toUpperCase()));
    if (found !== undefined) return found;
    problems.push(`${name} must be one of ${allowed.join(', ')} (got ${show(value)})`);
    return fallback;
  };

  return { raw, whole, positive, bool, oneOf };
}

/** The helpers of one createReader call. */
export type Reader = ReturnType<typeof createReader>;
