/**
 * Regenerate the golden vectors (only when the contract in docs/NUMERICS.md
 * changes on purpose):  node --import tsx test/golden/make-golden.ts [file.json]
 */
import fs from 'node:fs';
import { randomQuantizedModel, randomSegments } from '../../parity/random-model.ts';
import { simulateTrace } from '../../parity/trace.ts';
import { modelToJson, type GoldenFile } from './golden-io.ts';

const CASES = [
  {
    file: 'lstm-3x8.json',
    spec: { seed: 42, inputSize: 3, units: 8, outputSize: 1, weightRange: 1.5, biasRange: 1 },
    lengths: [24, 16],
    extremes: 0.1,
  },
  {
    file: 'lstm-2x4-saturating.json',
    spec: { seed: 43, inputSize: 2, units: 4, outputSize: 2, weightRange: 8, biasRange: 4 },
    lengths: [20],
    extremes: 1,
  },
  {
    file: 'gru-3x6.json',
    spec: { seed: 44, inputSize: 3, units: 6, outputSize: 1, weightRange: 1.5, biasRange: 1, cell: 'gru' as const },
    lengths: [24, 16],
    extremes: 0.1,
  },
  {
    file: 'peephole-3x6.json',
    spec: { seed: 46, inputSize: 3, units: 6, outputSize: 1, weightRange: 1.5, biasRange: 1, cell: 'peephole' as const },
    lengths: [24, 16],
    extremes: 0.1,
  },
  {
    file: 'cifg-3x6.json',
    spec: { seed: 47, inputSize: 3, units: 6, outputSize: 1, weightRange: 1.5, biasRange: 1, cell: 'cifg' as const },
    lengths: [24, 16],
    extremes: 0.1,
  },
  {
    file: 'gru-reset-after-3x6.json',
    spec: { seed: 48, inputSize: 3, units: 6, outputSize: 1, weightRange: 1.5, biasRange: 1, cell: 'gru-reset-after' as const },
    lengths: [24, 16],
    extremes: 0.1,
  },
  {
    file: 'stacked-lstm-gru-rnn-3x6x5x4.json',
    spec: {
      seed: 49,
      inputSize: 3,
      units: 6,
      outputSize: 2,
      weightRange: 1.5,
      biasRange: 1,
      cell: 'lstm' as const,
      stacked: [
        { cell: 'gru-reset-after' as const, units: 5 },
        { cell: 'rnn' as const, units: 4 },
      ],
    },
    lengths: [24, 16],
    extremes: 0.1,
  },
  {
    file: 'bidirectional-gru-concat-lstm-sum-3x5x4.json',
    spec: {
      seed: 50,
      inputSize: 3,
      units: 5,
      outputSize: 2,
      weightRange: 1.5,
      biasRange: 1,
      window: 6,
      cell: 'gru' as const,
      bidirectional: 'concat' as const,
      stacked: [{ cell: 'lstm' as const, units: 4, bidirectional: 'sum' as const }],
    },
    lengths: [14, 5],
    extremes: 0.1,
  },
  {
    file: 'reverse-lstm-reverse-gru-3x5x4.json',
    spec: {
      seed: 52,
      inputSize: 3,
      units: 5,
      outputSize: 2,
      weightRange: 1.5,
      biasRange: 1,
      window: 6,
      cell: 'lstm' as const,
      reverse: true,
      stacked: [{ cell: 'gru' as const, units: 4, reverse: true }],
    },
    lengths: [14, 5],
    extremes: 0.1,
  },
  {
    file: 'embedding-lstm-12x4x6.json',
    spec: { seed: 51, inputSize: 4, units: 6, outputSize: 1, weightRange: 1.5, biasRange: 1, cell: 'lstm' as const, vocabulary: 12 },
    lengths: [24, 16],
    extremes: 0.1,
  },
  {
    file: 'depth-gated-3x6x6.json',
    spec: { seed: 53, inputSize: 3, units: 6, outputSize: 1, weightRange: 1.5, biasRange: 1, cell: 'depth-gated' as const },
    lengths: [24, 16],
    extremes: 0.1,
  },
  {
    file: 'rnn-2x5.json',
    spec: { seed: 45, inputSize: 2, units: 5, outputSize: 2, weightRange: 1.5, biasRange: 1, cell: 'rnn' as const },
    lengths: [24, 16],
    extremes: 0.1,
  },
  {
    // four modules of two units, random increasing periods (parity/random-model.ts); the second segment restarts the clock
    file: 'clockwork-2x8.json',
    spec: { seed: 53, inputSize: 2, units: 8, outputSize: 2, weightRange: 1.5, biasRange: 1, cell: 'clockwork' as const },
    lengths: [30, 17],
    extremes: 0.1,
  },
];
const only = process.argv[2];

for (const c of CASES.filter((x) => !only || x.file === only)) {
  const q = randomQuantizedModel(c.spec);
  const segments = randomSegments(c.spec.seed, c.spec.inputSize, c.lengths, c.extremes);
  const golden: GoldenFile = {
    producedBy:
      `test/golden/make-golden.ts: randomQuantizedModel(${JSON.stringify(c.spec)}) (per-row scales), ` +
      `randomSegments(${c.spec.seed}, ${c.spec.inputSize}, ${JSON.stringify(c.lengths)}, ${c.extremes}), traced by reference/simulator.ts`,
    model: modelToJson(q),
    segments: segments.map((s) => s.map((x) => Array.from(x))),
    trace: simulateTrace(q, segments),
  };
  fs.writeFileSync(new URL(c.file, import.meta.url), JSON.stringify(golden) + '\n');
  console.log(`wrote test/golden/${c.file}`);
}
