/**
 * Parity of generated code with the simulator on every available engine
 * (the `simulate` step): test windows from the data plus random int8
 * sequences with extremes, with the state reset before every segment.
 */
import type { QuantizedModel } from '../core/model.ts';
import { availableEngines, EngineCapacityError, type Engine, type EngineName } from '../parity/engines.ts';
import { emitModule, flashWeights } from '../codegen/emit-module.ts';
import { TOOL_VERSION } from '../core/version.ts';
import { checkParity, type GeneratedSource, type ParityResult } from '../parity/parity.ts';
import { randomSegments } from '../parity/random-inputs.ts';
import type { Segments } from '../parity/trace.ts';
import { UserError } from '../core/errors.ts';
import { capacityVerdict, surelyCannotLoad, type CapacityVerdict } from './engine-capacity.ts';
import { replaysShare, shareOfEachKind, shareSteps, weightsPerStep, type SegmentKind, type Share } from './parity-share.ts';

export interface SimulateOptions {
  /** Random segments: how many, and steps in each. */
  randomSegments: number;
  randomSteps: number;
  seed: number;
  /** Restrict to these engines (default: all available). */
  engines?: EngineName[];
  /** Also the watch's firmware (bangle2) when available, not named: an engine that cannot hold the model is one line. */
  watch?: boolean;
  /** Int8 input segments to replay, e.g. the test windows (see inputSegments in quantize.ts). */
  segments?: Segments;
  /**
   * Segments by kind, replayed after `segments` (e.g. test windows, streamed series); with them,
   * the es5 target on Espruino's builds replays a share of each kind (pipeline/parity-share.ts).
   */
  kinds?: SegmentKind[];
  /** Progress: called before each engine/target run. */
  log?: (line: string) => void;
}

export interface SimulateResult {
  engines: string[];
  skipped: string[];
  steps: number;
  mismatches: number;
  results: ParityResult[];
  /** Where a target replayed a share of the steps: which, on which engine, how many, and what they are. */
  shares: { engine: string; target: string; steps: number; of: number; description: string }[];
}

/** Engines with an Espruino Storage (the Linux build's files, the watch's flash, vm+E's stand-in). */
const STORAGE_ENGINES: readonly EngineName[] = ['espruino', 'bangle2', 'vm+E'];

/**
 * The espruino target with its weights in a Storage file, written first by its writer
 * program: the results, or undefined where the engine has no Storage or this does not fit either.
 */
export async function parityInFlash(
  q: QuantizedModel,
  globalName: string,
  engine: Engine,
  segments: Segments,
  progress: (label: string) => void,
): Promise<ParityResult[] | undefined> {
  if (!STORAGE_ENGINES.includes(engine.name)) return undefined;
  const options = {
    target: 'espruino' as const,
    globalName,
    modelSha256: '',
    generatorVersion: TOOL_VERSION,
    flash: { file: 'lstm-parity.bin', writer: 'the parity run' },
  };
  const source = { target: 'espruino (weights in flash)', globalName, code: flashWeights(q, options).writer + emitModule(q, options) };
  try {
    return await checkParity(q, [source], [engine], segments, progress);
  } catch (err) {
    if (err instanceof EngineCapacityError) return undefined;
    throw err;
  }
}

export async function simulateStep(q: QuantizedModel, sources: GeneratedSource[], o: SimulateOptions): Promise<SimulateResult> {
  const { engines: all, skipped } = availableEngines(Boolean(o.watch) || Boolean(o.engines?.includes('bangle2')));
  let engines = all;
  let notRun = o.watch ? skipped : skipped.filter((s) => !s.startsWith('bangle2:'));
  if (o.engines) {
    const missing = o.engines.filter((n) => !all.some((e) => e.name === n));
    if (missing.length) {
      throw new UserError(`engine ${missing.join(', ')} is not available here (${skipped.join('; ') || 'unknown engine'})`);
    }
    engines = all.filter((e) => o.engines!.includes(e.name));
    // Engines not asked for are neither run nor reported.
    notRun = [];
  }
  const random = randomSegments(o.seed, q.layers[0].inputSize, new Array(o.randomSegments).fill(o.randomSteps));
  const segments: Segments = [...(o.segments ?? []), ...(o.kinds ?? []).flatMap((k) => k.segments), ...random];
  const steps = stepCount(segments);
  const share = o.kinds ? shareOfEachKind([...o.kinds, { name: 'random sequences', segments: random }], shareSteps(q)) : undefined;
  const total = sources.length * engines.length;
  const results: ParityResult[] = [];
  const ran: string[] = [];
  const shares: SimulateResult['shares'] = [];
  for (const [i, engine] of engines.entries()) {
    let k = 0;
    const progress = (label: string, n: number) => o.log?.(`simulate: ${i * sources.length + ++k}/${total} ${label}, ${n} steps`);
    const r = await parityOnEngine(q, sources, engine, { all: segments, share }, progress, Boolean(o.engines));
    results.push(...r.results);
    if (r.label) ran.push(r.label);
    if (r.skipped) notRun = [...notRun, r.skipped];
    for (const x of r.results.filter((x) => share && replaysShare(engine.name, x.target)))
      shares.push({ engine: x.engine, target: x.target, steps: x.steps, of: steps, description: share!.description });
  }
  return {
    engines: ran,
    skipped: notRun,
    steps,
    mismatches: results.filter((r) => r.mismatch).length,
    results,
    shares,
  };
}

const stepCount = (segments: Segments) => segments.reduce((n, s) => n + s.length, 0);

/**
 * Gate-weight bytes a parity run on the watch's emulator may read from flash: it reads flash one
 * byte per call into JavaScript, about 5 µs a byte, and a step reads each gate weight about six
 * times (npm run bench:watch-flash). 4 MB is about two minutes there: MNIST's LSTM (79,872 bytes of
 * gate weights) replays its first 50 steps, a 3x32 LSTM (4,480) all of a usual run.
 */
const WATCH_FLASH_BUDGET = 4_000_000;

/** The whole segments, from the first, whose steps fit WATCH_FLASH_BUDGET; at least one. */
export function watchFlashSegments(q: QuantizedModel, segments: Segments): Segments {
  const perStep = weightsPerStep(q);
  const kept: Segments = [];
  let steps = 0;
  for (const segment of segments) {
    if (kept.length > 0 && (steps + segment.length) * perStep > WATCH_FLASH_BUDGET) break;
    kept.push(segment);
    steps += segment.length;
  }
  return kept;
}

/**
 * Every source on one engine. A source the engine cannot hold: named with --engines (`named`), an error
 * of one line; otherwise one line (what it needs against what the engine has), and the espruino target
 * with its weights in flash where they fit.
 */
async function parityOnEngine(
  q: QuantizedModel,
  sources: GeneratedSource[],
  engine: Engine,
  replays: { all: Segments; share?: Share },
  progress: (label: string, steps: number) => void,
  named: boolean,
): Promise<{ results: ParityResult[]; label?: string; skipped?: string }> {
  const segments = replays.all;
  const results: ParityResult[] = [];
  const failed: string[] = [];
  const verdicts: CapacityVerdict[] = [];
  const tooLarge = surelyCannotLoad(q, engine.name);
  for (const src of sources) {
    // The slowest engine/target pairs replay the share, when there is one (parity-share.ts).
    const replay = replays.share && replaysShare(engine.name, src.target) ? replays.share.segments : segments;
    try {
      if (tooLarge) throw new EngineCapacityError(tooLarge);
      results.push(...(await checkParity(q, [src], [engine], replay, (label) => progress(label, stepCount(replay)))));
    } catch (err) {
      if (!(err instanceof EngineCapacityError)) throw err;
      const verdict = capacityVerdict(q, engine.name, err.message);
      if (named) throw new UserError(verdict.line);
      if (!verdicts.some((v) => v.line === verdict.line)) verdicts.push(verdict);
      failed.push(src.target);
    }
  }
  if (!verdicts.length) return { results, label: engine.name };
  const flashFits = verdicts.every((v) => v.flashFits);
  const replayed = engine.name === 'bangle2' ? watchFlashSegments(q, segments) : segments;
  const flashProgress = (label: string) => progress(label, stepCount(replayed));
  const flash = flashFits ? await parityInFlash(q, sources[0]?.globalName ?? 'lstmModel', engine, replayed, flashProgress) : undefined;
  const subset = replayed.length < segments.length ? `, the first ${stepCount(replayed)} of ${stepCount(segments)} steps` : '';
  // The parity program holds the driver's inputs too: flash weights that fit the model alone may still not load there.
  const checked = flash
    ? '; parity checked there with the weights in flash'
    : flashFits
      ? '; with the weights in flash, the parity program (model and replayed inputs) did not fit either'
      : '';
  return {
    results: [...results, ...(flash ?? [])],
    label: flash ? `${engine.name} (weights in flash${subset})` : results.length ? engine.name : undefined,
    skipped: `${verdicts.map((v) => v.line).join('; ')} (${failed.join(', ')} not run there${checked})`,
  };
}
