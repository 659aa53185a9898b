import { InvalidArgumentError } from 'commander';

/**
 * Parsers for the values of flags that are not run-config keys (those are checked against the
 * run-config schema, see flags.ts). commander reports an InvalidArgumentError as the flag's error,
 * and the CLI exits 2.
 */

/** An integer >= min. */
export const wholeNumber =
  (flag: string, min: number) =>
  (raw: string): number => {
    const value = Number(raw);
    if (raw.trim() === '' || !Number.isInteger(value) || value < min) {
      throw new InvalidArgumentError(
        `${flag} expects ${min === 1 ? 'a positive integer' : `a whole number >= ${min}`}, got '${raw}'`,
      );
    }
    return value;
  };

/** Any integer (a seed). */
export const integer =
  (flag: string) =>
  (raw: string): number => {
    const value = Number(raw);
    if (raw.trim() === '' || !Number.isInteger(value)) {
      throw new InvalidArgumentError(`${flag} expects an integer, got '${raw}'`);
    }
    return value;
  };

/** A number > 0. */
export const positiveNumber =
  (flag: string) =>
  (raw: string): number => {
    const value = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(value) || value <= 0) {
      throw new InvalidArgumentError(`${flag} expects a number > 0, got '${raw}'`);
    }
    return value;
  };

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000 } as const;

/** A positive duration in milliseconds: minutes (`10`, `0.5`) or with a unit (`90s`, `15m`, `2h`). */
export const duration =
  (flag: string) =>
  (raw: string): number => {
    const match = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*([smh]?)\s*$/.exec(raw);
    const ms = match ? Number(match[1]) * UNIT_MS[(match[2] || 'm') as keyof typeof UNIT_MS] : Number.NaN;
    if (!(ms > 0)) {
      throw new InvalidArgumentError(
        `${flag} expects a positive duration: minutes (e.g. 10) or 90s, 15m, 2h; got '${raw}'`,
      );
    }
    return ms;
  };

/** A comma-separated subset of `allowed`, without repeats. */
export const listOf =
  <T extends string>(flag: string, allowed: readonly T[]) =>
  (raw: string): T[] => {
    const items = raw.split(',').map((s) => s.trim());
    const bad = items.find((s) => !(allowed as readonly string[]).includes(s));
    if (bad !== undefined) {
      throw new InvalidArgumentError(
        `${flag}: '${bad}' is not one of ${allowed.join(', ')} (comma-separated)`,
      );
    }
    return [...new Set(items)] as T[];
  };
