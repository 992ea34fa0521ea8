/**
 * A share of each kind of parity segment, for the one engine/target pair that is slow.
 *
 * Espruino's builds (`espruino`, `bangle2`) run the es5 target, written for engines without
 * Espruino's natives, many times slower than the espruino target made for them: a depth-gated
 * 2x16 step takes 146 ms against 19 ms on the Linux build and 265 ms against 7.4 ms on the
 * watch's emulator (2-core machine under load). Replaying a demo's every step there (7,800)
 * takes 20 to 35 minutes and runs past the limit of one engine run. The pairs below replay a
 * share of each kind of segment (test windows, streamed series, random sequences), and the run
 * says how many steps they checked; the espruino target replays every step on the Linux
 * Espruino, and every other engine both targets.
 */
import type { QuantizedModel } from '../core/model.ts';
import type { EngineName } from '../parity/engines.ts';
import type { Segments } from '../parity/trace.ts';

/**
 * The engine/target pairs that replay a share: the es5 target on Espruino's builds, and every
 * target on the watch's emulator, whose console carries each step's trace (about 1 KB a step for
 * that model) one character at a time: its 7,800 steps of the espruino target ran past the limit
 * too (5,538 steps in 600 s, at a load of 17 on the 2 cores).
 */
export function replaysShare(engine: EngineName, target: string): boolean {
  return engine === 'bangle2' || (engine === 'espruino' && target === 'es5');
}

/**
 * Weight reads the share may cost: steps times the weights of a step (every layer's matrix).
 * 2,000,000 is about 80 s on the Linux Espruino and 145 s on the watch's emulator under load
 * (a depth-gated 2x16 model: 3,712 weights a step, at most 538 steps, 503 in the demo; the demo's LSTM 16: 1,736).
 */
export const SHARE_WEIGHT_READS = 2_000_000;

/** Segments of one kind, named for people ("test windows"). */
export interface SegmentKind {
  name: string;
  segments: Segments;
}

/** A share: its segments, their steps, and what they are in words. */
export interface Share {
  segments: Segments;
  steps: number;
  description: string;
}

const stepsOf = (segments: Segments) => segments.reduce((n, s) => n + s.length, 0);

/** Gate weights a step reads: every layer's matrix, both directions. */
export function weightsPerStep(q: QuantizedModel): number {
  return q.layers.reduce((n, l) => n + l.weightsQ.length + (l.backward?.weightsQ.length ?? 0), 0);
}

/** Steps the share may replay for this model (at least one). */
export function shareSteps(q: QuantizedModel): number {
  return Math.max(1, Math.floor(SHARE_WEIGHT_READS / weightsPerStep(q)));
}

/**
 * Each kind in turn gets an equal part of the steps still left: its whole segments from the first
 * while they fit, or the first steps of its first segment when not even that one fits (a prefix of
 * a stream is a stream from the same reset state); what a kind leaves goes to the kinds after it.
 * Undefined when every step fits.
 */
export function shareOfEachKind(kinds: SegmentKind[], budget: number): Share | undefined {
  const nonEmpty = kinds.filter((k) => k.segments.length > 0);
  if (stepsOf(nonEmpty.flatMap((k) => k.segments)) <= budget) return undefined;
  let left = budget;
  const segments: Segments = [];
  const parts: string[] = [];
  nonEmpty.forEach((kind, i) => {
    const part = Math.floor(left / (nonEmpty.length - i));
    const taken: Segments = [];
    let steps = 0;
    for (const segment of kind.segments) {
      if (steps + segment.length > part) break;
      taken.push(segment);
      steps += segment.length;
    }
    if (taken.length === 0 && part > 0) {
      taken.push(kind.segments[0].slice(0, part));
      steps = part;
      parts.push(`the first ${part} steps of 1 of ${kind.segments.length} ${kind.name}`);
    } else parts.push(`${taken.length} of ${kind.segments.length} ${kind.name}`);
    segments.push(...taken);
    left -= steps;
  });
  return { segments, steps: stepsOf(segments), description: parts.join(', ') };
}
