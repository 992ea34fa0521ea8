/**
 * Parity: the generated code, run on each engine, must reproduce the
 * simulator's trace exactly (outputs, h, c, gate outputs at every step).
 */
import type { QuantizedModel } from '../core/model.ts';
import { driverSource, parseTrace, type Engine } from './engines.ts';
import { describeMismatch, firstMismatch, simulateTrace, type Mismatch, type Segments } from './trace.ts';

export interface GeneratedSource {
  target: string;
  code: string;
  globalName: string;
}

export interface ParityResult {
  target: string;
  engine: string;
  steps: number;
  mismatch?: Mismatch;
  /** One line for people. */
  message: string;
}

export async function checkParity(
  q: QuantizedModel,
  sources: GeneratedSource[],
  engines: Engine[],
  segments: Segments,
  onRun?: (label: string) => void,
): Promise<ParityResult[]> {
  const expected = simulateTrace(q, segments);
  const results: ParityResult[] = [];
  for (const src of sources) {
    const program = src.code + driverSource(src.globalName, q.layers[0].inputSize, segments);
    for (const engine of engines) {
      const label = `${src.target} on ${engine.name}`;
      onRun?.(label);
      const actual = parseTrace(await engine.run(program), label);
      const mismatch = firstMismatch(expected, actual, q);
      results.push({
        target: src.target,
        engine: engine.name,
        steps: actual.length,
        mismatch,
        message: mismatch ? describeMismatch(label, mismatch) : `${label}: ${actual.length} steps, exact`,
      });
    }
  }
  return results;
}

/** Quantized input windows as segments (one window per segment, reset before each). */
export function windowsToSegments(q: QuantizedModel, xq: Int8Array, count: number): Segments {
  const { window } = q;
  const n = q.layers[0].inputSize;
  const segments: Segments = [];
  for (let w = 0; w < count; w++) {
    const steps: Int8Array[] = [];
    for (let t = 0; t < window; t++) steps.push(xq.slice((w * window + t) * n, (w * window + t + 1) * n));
    segments.push(steps);
  }
  return segments;
}
