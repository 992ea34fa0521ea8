/**
 * What every command shares: option parsers that reject bad values with one
 * line, the error boundary (UserError -> one line on stderr, exit 1), and the
 * `--json` summary (one line, last on stdout).
 */
import { InvalidArgumentError } from 'commander';
import { UserError } from '../core/errors.ts';
import { escapeControls } from '../core/format.ts';
import { DELIMITERS, type Delimiter } from '../data/csv.ts';

export function intOption(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^[+-]?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}, got '${value}'.`);
    }
    return n;
  };
}

export function floatOption(min: number, max: number, { exclusiveMin = false } = {}) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n > max || n < min || (exclusiveMin && n === min)) {
      throw new InvalidArgumentError(
        `expected a number ${exclusiveMin ? 'above' : 'from'} ${min} ${exclusiveMin ? 'and up to' : 'to'} ${max}, got '${value}'.`,
      );
    }
    return n;
  };
}

export function listOption(value: string): string[] {
  const items = value.split(',').map((s) => s.trim());
  if (items.some((s) => s === '')) throw new InvalidArgumentError(`expected a comma-separated list of names, got '${value}'.`);
  return items;
}

export function choiceOption<T extends string>(choices: readonly T[]) {
  return (value: string): T => {
    if (!choices.includes(value as T)) throw new InvalidArgumentError(`expected one of ${choices.join(', ')}, got '${value}'.`);
    return value as T;
  };
}

/** --delimiter: ',', ';' or a tab (given as a tab, `tab` or `\t`). */
export function delimiterOption(value: string): Delimiter {
  const d = value === 'tab' || value === '\\t' ? '\t' : value;
  if (!Object.hasOwn(DELIMITERS, d)) throw new InvalidArgumentError(`expected ',', ';' or tab, got '${escapeControls(value)}'.`);
  return d as Delimiter;
}

/** "0.7,0.15" -> train / validation fractions (test gets the rest). */
export function splitOption(value: string): { train: number; validation: number } {
  const parts = value.split(',').map(Number);
  const [train, validation] = parts;
  if (parts.length !== 2 || !(train > 0) || !(validation > 0) || train + validation >= 1) {
    throw new InvalidArgumentError(
      `expected two fractions TRAIN,VALIDATION with a sum below 1 (the test split gets the rest), got '${value}'.`,
    );
  }
  return { train, validation };
}

/** Print the one-line JSON summary (last line of stdout). */
export function printJson(summary: unknown): void {
  process.stdout.write(JSON.stringify(summary) + '\n');
}

/** Run a command body; a UserError becomes one line on stderr and exit code 1. */
export async function runAction(command: string, body: () => Promise<void> | void): Promise<void> {
  try {
    await body();
  } catch (err) {
    if (err instanceof UserError) {
      process.stderr.write(`lstm-mcu ${command}: error: ${err.message}\n`);
      process.exitCode = 1;
      return;
    }
    process.stderr.write(`lstm-mcu ${command}: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 70;
  }
}

export { fmt } from '../core/format.ts';
