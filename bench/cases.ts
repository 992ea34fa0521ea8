/**
 * The models the Espruino benchmarks time or count, and the source text of
 * each implementation measured on them: the generated int8 module (espruino
 * and es5 targets), the float baseline, the floor and, for the LSTM, the
 * least step (bench/float-baseline.ts). One definition for bench/run.ts and
 * bench/espruino-instructions.ts, so both measure the same code.
 */
import { emitModule } from '../codegen/emit-module.ts';
import { quantizeModel } from '../quantize/quantize.ts';
import { estimateRam } from '../codegen/ram-estimate.ts';
import { gateCount, type CellKind, type FloatModel, type QuantizedModel } from '../core/model.ts';
import { randomFloatModel, randomWindows } from '../parity/random-model.ts';
import { floatBaselineSource, floorSource } from './float-baseline.ts';
import { denseWindows } from '../data/window-set.ts';
import { maskedRecurrentKernel } from '../core/clock.ts';

export const BENCH_INPUTS = 3;

/** Implementations measured, each in a program of its own (small heaps: JerryScript's is 512 KiB). */
export const IMPLEMENTATIONS = ['int8-espruino', 'int8-es5', 'float', 'floor', 'bound'] as const;
export type Implementation = (typeof IMPLEMENTATIONS)[number];

export interface BenchCase {
  cell: CellKind;
  units: number;
  label: string;
  float: FloatModel;
  q: QuantizedModel;
  /** Constant data of the generated int8 model (weights, biases, multipliers; the 4 KiB table apart) and of the float baseline (Float32Array). */
  int8WeightBytes: number;
  floatWeightBytes: number;
  /** The step call of an implementation, with x (readings) and xq (int8) in scope. */
  call(impl: Implementation): string;
  /** The source defining the global BENCH for an implementation. */
  source(impl: Implementation): string;
}

/** Whether an implementation is measured on an engine: the bound is an Espruino measure (its rows are E.convolve calls), written for the LSTM. */
export const measured = (impl: Implementation, engine: string, cell: CellKind): boolean =>
  impl !== 'bound' || (engine === 'espruino' && cell === 'lstm');

/**
 * A random model of 3 inputs and `units` units (seeded by its size), quantized per row as the CLI does.
 * A clockwork model takes `clockPeriods` (its links from faster modules zeroed), else the random ones.
 */
export function benchCase(cell: CellKind, units: number, clockPeriods?: number[]): BenchCase {
  const float = randomFloatModel({ seed: units, inputSize: BENCH_INPUTS, units, weightRange: 0.5, cell });
  if (clockPeriods) {
    const layer = float.layers[0]!;
    float.layers[0] = { ...layer, clockPeriods, recurrentKernel: maskedRecurrentKernel(layer.recurrentKernel, units, clockPeriods) };
  }
  const q = quantizeModel(float, {
    weightScale: 'per-row',
    calibrationX: denseWindows(randomWindows(units, 32, float.window, BENCH_INPUTS), float.window * BENCH_INPUTS),
    floatModelSha256: '',
  });
  const emit = (target: 'espruino' | 'es5') => emitModule(q, { target, globalName: 'BENCH', modelSha256: '', generatorVersion: 'bench' });
  return {
    cell,
    units,
    label: `${cell.toUpperCase()} ${BENCH_INPUTS}x${units}${clockPeriods ? ` (periods ${clockPeriods.join(',')})` : ''}`,
    float,
    q,
    int8WeightBytes: estimateRam(q).weightBytes,
    floatWeightBytes:
      4 *
      float.layers.reduce(
        (s, l) => s + l.kernel.length + l.recurrentKernel.length + l.bias.length,
        float.head.kernel.length + float.head.bias.length,
      ),
    call: (impl) => (impl === 'float' ? 'BENCH.step(x)' : impl === 'floor' || impl === 'bound' ? 'BENCH.step()' : 'BENCH.stepQ(xq)'),
    source: (impl) =>
      impl === 'int8-espruino'
        ? emit('espruino')
        : impl === 'int8-es5'
          ? emit('es5')
          : impl === 'float'
            ? floatBaselineSource(float, 'BENCH')
            : floorSource(BENCH_INPUTS, units, gateCount(cell), 1, 'BENCH', impl === 'bound'),
  };
}
