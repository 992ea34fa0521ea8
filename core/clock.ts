/**
 * The clock of a Clockwork RNN layer (Koutník et al. 2014; docs/NUMERICS.md §5i).
 *
 * The units form g modules of equal size, in order, with periods
 * T_0 < T_1 < ... < T_{g-1}. The layer keeps a step counter t (part of the
 * state: reset() sets it to 0); at step t module i is updated when
 * t mod T_i = 0 and keeps its h otherwise; then t = (t + 1) mod L, with L the
 * least common multiple of the periods (the counter stays a small integer
 * and every phase repeats exactly). Module i reads the recurrent state only
 * of modules j >= i (at least as slow): recurrent weights from a faster
 * module are zero (a block upper-triangular matrix, units sorted by period).
 */

/** The paper's exponential periods by default: base 2, four modules (1, 2, 4, 8). */
export const DEFAULT_CLOCK_BASE = 2;
export const DEFAULT_CLOCK_MODULES = 4;
/** The counter's cycle stays below 2^15 (the device keeps it as a small integer). */
export const MAX_CLOCK_CYCLE = 1 << 15;

/** base^0, base^1, ..., base^(modules-1). */
export function exponentialPeriods(base: number, modules: number): number[] {
  return Array.from({ length: modules }, (_, i) => base ** i);
}

export interface ClockModule {
  /** Units [start, end) of the module. */
  start: number;
  end: number;
  period: number;
}

/** The modules of a layer of `units` units with `periods`, fastest first. */
export function clockModules(units: number, periods: readonly number[]): ClockModule[] {
  const size = units / periods.length;
  return periods.map((period, i) => ({ start: i * size, end: (i + 1) * size, period }));
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** L = lcm(periods): the counter runs 0 .. L-1. */
export function clockCycle(periods: readonly number[]): number {
  return periods.reduce((l, p) => (l / gcd(l, p)) * p, 1);
}

/** Whether a module of period `period` updates at counter value `clock`. */
export const isActive = (period: number, clock: number): boolean => clock % period === 0;

/** The counter after a step: (t + 1) mod L. */
export const nextClock = (clock: number, periods: readonly number[]): number => (clock + 1) % clockCycle(periods);

/** The module of unit u. */
export const moduleOf = (u: number, units: number, periods: readonly number[]): number => Math.floor(u / (units / periods.length));

/** Whether h_j feeds unit u: module(j) >= module(u) (block upper triangle). */
export const feedsUnit = (j: number, u: number, units: number, periods: readonly number[]): boolean =>
  moduleOf(j, units, periods) >= moduleOf(u, units, periods);

/** The period of each unit's module, [units]. */
export function clockOfUnits(units: number, periods: readonly number[]): Float32Array {
  return Float32Array.from({ length: units }, (_, u) => periods[moduleOf(u, units, periods)]!);
}

/** M[j][u] = 1 where h_j feeds unit u (module(j) >= module(u)), else 0: [units][units]. */
export function clockMask(units: number, periods: readonly number[]): Float32Array {
  const m = new Float32Array(units * units);
  for (let j = 0; j < units; j++) for (let u = 0; u < units; u++) m[j * units + u] = feedsUnit(j, u, units, periods) ? 1 : 0;
  return m;
}

/** A recurrent kernel [units][units] with the links the mask removes set to exact zeros. */
export function maskedRecurrentKernel(kernel: Float32Array, units: number, periods: readonly number[]): Float32Array {
  const mask = clockMask(units, periods);
  return kernel.map((w, i) => (mask[i] ? w : 0));
}

/** What is wrong with `periods` for a layer of `units` units, or undefined. */
export function clockPeriodsProblem(periods: readonly number[], units: number): string | undefined {
  if (periods.length === 0) return 'no clock periods; a clockwork layer needs at least one module';
  if (periods.some((p) => !Number.isInteger(p) || p < 1)) return `clock periods ${periods.join(',')} must be integers >= 1`;
  if (periods.some((p, i) => i > 0 && p <= periods[i - 1]!)) return `clock periods ${periods.join(',')} must increase`;
  if (units % periods.length !== 0)
    return `${units} units do not split into ${periods.length} modules of equal size (one per clock period)`;
  const cycle = clockCycle(periods);
  if (cycle >= MAX_CLOCK_CYCLE) return `clock periods ${periods.join(',')} repeat every ${cycle} steps; at most ${MAX_CLOCK_CYCLE - 1}`;
  return undefined;
}

/**
 * The first recurrent weight from a faster module to a slower one that is not
 * zero, as "h_j -> unit u", or undefined: `weight(j, u)` reads the matrix.
 */
export function lowerBlockWeight(units: number, periods: readonly number[], weight: (j: number, u: number) => number): string | undefined {
  for (let u = 0; u < units; u++)
    for (let j = 0; j < units; j++) if (!feedsUnit(j, u, units, periods) && weight(j, u) !== 0) return `h${j} -> unit ${u}`;
  return undefined;
}

/**
 * The counter at the first row of a training window: the steps the device has
 * taken before that row when it streams the split from the split's first row
 * after a reset (pipeline/streamed-eval.ts), modulo the cycle. `startRow` and
 * `splitStart` are table rows.
 */
export function windowStartClock(startRow: number, splitStart: number, periods: readonly number[]): number {
  const L = clockCycle(periods);
  return (((startRow - splitStart) % L) + L) % L;
}
