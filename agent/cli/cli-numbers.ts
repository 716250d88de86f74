/** Whole-number options of the CLI (--strip, --limit, --port ...): parsed strictly, refused with the valid range. */
import { CliError } from './cli-error.ts';

/**
 * `text` as a whole number in [min, max], or a one-line CliError that names the option and the
 * range. Only optional sign and decimal digits are accepted: not "", "1.5", "1e3" or "0x10".
 */
export function parseWholeNumber(option: string, text: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = /^[+-]?[0-9]+$/.test(text) ? Number(text) : Number.NaN;
  if (Number.isSafeInteger(n) && n >= min && n <= max) return n;
  const range = max === Number.MAX_SAFE_INTEGER ? `of ${min} or more` : `from ${min} to ${max}`;
  throw new CliError(`invalid ${option} "${text}": use a whole number ${range}`);
}
