/**
 * A step-by-step record of a model run: per step, the head accumulator and
 * every state value (h, c, gate outputs; of every layer, layer 0 first). Produced by the simulator and by
 * the generated code on each engine, then compared exactly.
 */
import { Simulator } from '../reference/simulator.ts';
import { gateCount, gateNames, type QuantizedModel } from '../core/model.ts';

export interface TraceStep {
  segment: number;
  t: number;
  y: number[];
  h: number[];
  c: number[];
  gates: number[];
}

/** Input of a run: segments of int8 input vectors; the state is reset before each segment. */
export type Segments = Int8Array[][];

export function simulateTrace(q: QuantizedModel, segments: Segments): TraceStep[] {
  const sim = new Simulator(q);
  const trace: TraceStep[] = [];
  segments.forEach((steps, segment) => {
    sim.reset();
    steps.forEach((xq, t) => {
      const y = sim.stepQ(xq);
      trace.push({
        segment,
        t,
        y: Array.from(y),
        h: Array.from(sim.state.hQ7),
        c: Array.from(sim.state.cellQ),
        gates: Array.from(sim.state.gatesQ15),
      });
    });
  });
  return trace;
}

export interface Mismatch {
  segment: number;
  t: number;
  /** Which value: "y[0]", "h[3]", "c[1]", "gates[17] (forget, unit 1)". */
  what: string;
  expected: number | undefined;
  actual: number | undefined;
}

const FIELDS = ['y', 'h', 'c', 'gates'] as const;

/** "(layer 1, forget, unit 3)": where gate output i of the concatenated gates of every layer belongs. */
function gateLabel(q: QuantizedModel, i: number): string {
  let start = 0;
  for (let l = 0; l < q.layers.length; l++) {
    const { cell, units } = q.layers[l];
    const rows = gateCount(cell) * units;
    if (i < start + rows) {
      const r = i - start;
      return ` (${q.layers.length > 1 ? `layer ${l}, ` : ''}${gateNames(cell)[Math.floor(r / units)]}, unit ${r % units})`;
    }
    start += rows;
  }
  return '';
}

/** The first difference between two traces, or undefined when they are identical. */
export function firstMismatch(expected: TraceStep[], actual: TraceStep[], q: QuantizedModel): Mismatch | undefined {
  const n = Math.max(expected.length, actual.length);
  for (let s = 0; s < n; s++) {
    const e = expected[s];
    const a = actual[s];
    if (!e || !a) {
      const ref = e ?? a;
      return {
        segment: ref.segment,
        t: ref.t,
        what: e ? 'step missing from engine output' : 'extra step in engine output',
        expected: undefined,
        actual: undefined,
      };
    }
    for (const field of FIELDS) {
      const len = Math.max(e[field].length, a[field].length);
      for (let i = 0; i < len; i++) {
        if (e[field][i] !== a[field][i]) {
          const gate = field === 'gates' ? gateLabel(q, i) : '';
          return { segment: e.segment, t: e.t, what: `${field}[${i}]${gate}`, expected: e[field][i], actual: a[field][i] };
        }
      }
    }
  }
  return undefined;
}

export function describeMismatch(engine: string, m: Mismatch): string {
  return `${engine}: first mismatch at segment ${m.segment}, step ${m.t}, ${m.what}: simulator ${m.expected}, generated code ${m.actual}`;
}
