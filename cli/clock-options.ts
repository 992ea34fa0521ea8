/**
 * The Clockwork RNN's clock options (train, demo): the module periods, as a
 * list or as a base and a module count (the paper's exponential periods);
 * core/clock.ts checks them against the units.
 */
import { Option, InvalidArgumentError, type Command } from 'commander';
import { intOption } from './common.ts';
import { UserError } from '../core/errors.ts';
import { DEFAULT_CLOCK_BASE, DEFAULT_CLOCK_MODULES, exponentialPeriods } from '../core/clock.ts';
import { hasClock, type CellKind } from '../core/cells.ts';

/** --clock-periods 1,2,4,8: integers >= 1 (their order is checked with the units). */
function periodsOption(value: string): number[] {
  const items = value.split(',').map((s) => s.trim());
  if (items.some((s) => !/^\d+$/.test(s) || Number(s) < 1 || Number(s) > 32767))
    throw new InvalidArgumentError(`expected comma-separated integers from 1 to 32767, got '${value}'.`);
  return items.map(Number);
}

export function addClockOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option(
        '--clock-periods <list>',
        `--cell clockwork: the period of each module, increasing (units split into one module per period); default ${exponentialPeriods(DEFAULT_CLOCK_BASE, DEFAULT_CLOCK_MODULES).join(',')}`,
      ).argParser(periodsOption),
    )
    .addOption(
      new Option('--clock-base <n>', `--cell clockwork: exponential periods 1, n, n^2, ... (default ${DEFAULT_CLOCK_BASE})`).argParser(
        intOption(2, 64),
      ),
    )
    .addOption(
      new Option('--clock-modules <n>', `--cell clockwork: how many exponential periods (default ${DEFAULT_CLOCK_MODULES})`).argParser(
        intOption(1, 15),
      ),
    );
}

/** The periods the options give: a list, or a base and a module count; undefined when none is given (the default). */
export function clockPeriodsOf(o: Record<string, unknown>, cell: CellKind): number[] | undefined {
  const list = o.clockPeriods as number[] | undefined;
  const base = o.clockBase as number | undefined;
  const modules = o.clockModules as number | undefined;
  if (list === undefined && base === undefined && modules === undefined) return undefined;
  const given = list !== undefined ? '--clock-periods' : base !== undefined ? '--clock-base' : '--clock-modules';
  if (!hasClock(cell)) throw new UserError(`${given} is for --cell clockwork (the cell is ${cell})`);
  if (list !== undefined && (base !== undefined || modules !== undefined))
    throw new UserError('--clock-periods gives the periods itself: leave out --clock-base and --clock-modules');
  return list ?? exponentialPeriods(base ?? DEFAULT_CLOCK_BASE, modules ?? DEFAULT_CLOCK_MODULES);
}
