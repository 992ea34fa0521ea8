/**
 * Parity of generated code with the simulator on every available engine
 * (the `simulate` step): test windows from the data plus random int8
 * sequences with extremes, with the state reset before every segment.
 */
import type { QuantizedModel } from '../core/model.ts';
import { availableEngines, EngineCapacityError, type Engine, type EngineName } from '../parity/engines.ts';
import { checkParity, type GeneratedSource, type ParityResult } from '../parity/parity.ts';
import { randomSegments } from '../parity/random-inputs.ts';
import type { Segments } from '../parity/trace.ts';
import { UserError } from '../core/errors.ts';

export interface SimulateOptions {
  /** Random segments: how many, and steps in each. */
  randomSegments: number;
  randomSteps: number;
  seed: number;
  /** Restrict to these engines (default: all available). */
  engines?: EngineName[];
  /** Int8 input segments to replay, e.g. the test windows (see inputSegments in quantize.ts). */
  segments?: Segments;
  /** Progress: called before each engine/target run. */
  log?: (line: string) => void;
}

export interface SimulateResult {
  engines: string[];
  skipped: string[];
  steps: number;
  mismatches: number;
  results: ParityResult[];
}

export async function simulateStep(q: QuantizedModel, sources: GeneratedSource[], o: SimulateOptions): Promise<SimulateResult> {
  const { engines: all, skipped } = availableEngines();
  let engines = all;
  let notRun = skipped;
  if (o.engines) {
    const missing = o.engines.filter((n) => !all.some((e) => e.name === n));
    if (missing.length) {
      throw new UserError(`engine ${missing.join(', ')} is not available here (${skipped.join('; ') || 'unknown engine'})`);
    }
    engines = all.filter((e) => o.engines!.includes(e.name));
    // Engines not asked for are neither run nor reported.
    notRun = [];
  }
  const segments: Segments = [];
  if (o.segments) segments.push(...o.segments);
  segments.push(...randomSegments(o.seed, q.layers[0].inputSize, new Array(o.randomSegments).fill(o.randomSteps)));
  const steps = segments.reduce((s, seg) => s + seg.length, 0);
  const total = sources.length * engines.length;
  const results: ParityResult[] = [];
  const ran: Engine[] = [];
  for (const [i, engine] of engines.entries()) {
    let k = 0;
    const progress = (label: string) => o.log?.(`simulate: ${i * sources.length + ++k}/${total} ${label}, ${steps} steps`);
    try {
      results.push(...(await checkParity(q, sources, [engine], segments, progress)));
      ran.push(engine);
    } catch (err) {
      // An engine that cannot hold the model: named with --engines, an error; otherwise one line, and the run goes on.
      if (!(err instanceof EngineCapacityError) || o.engines) throw err;
      notRun = [...notRun, `${err.message} (parity not checked there)`];
    }
  }
  return {
    engines: ran.map((e) => e.name),
    skipped: notRun,
    steps,
    mismatches: results.filter((r) => r.mismatch).length,
    results,
  };
}
