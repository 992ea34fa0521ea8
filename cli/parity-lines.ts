/**
 * What `demo` and `example` say about parity: the summary line, where a target replayed only a
 * share of the steps (pipeline/parity-share.ts), and the same in their JSON summaries.
 */
import type { SimulateResult } from '../pipeline/simulate.ts';

/** "exact on vm, duk, ...: 7800 steps each (what), both targets", then one line per share of the steps. */
export function parityLines(parity: SimulateResult, what: string): string[] {
  const verdict = parity.mismatches === 0 ? 'exact' : `${parity.mismatches} MISMATCHES`;
  return [
    `parity       ${verdict} on ${parity.engines.join(', ')}: ${parity.steps} steps each${what}, both targets`,
    ...shareLines(parity),
  ];
}

/** One line per share: the engine/target pairs that replayed the same share are named together. */
export function shareLines(parity: SimulateResult): string[] {
  const groups: { share: SimulateResult['shares'][number]; pairs: string[] }[] = [];
  for (const s of parity.shares) {
    const pair = `${s.target} on ${s.engine}`;
    const same = groups.find((g) => g.share.steps === s.steps && g.share.description === s.description);
    if (same) same.pairs.push(pair);
    else groups.push({ share: s, pairs: [pair] });
  }
  // why these pairs: docs/TESTING.md (they are the slowest by far)
  return groups.map(
    ({ share: s, pairs }) => `  ${pairs.join(', ')}: ${s.steps} of those ${s.of} steps (${s.description}), the slowest pairs by far`,
  );
}

/** The summary's parity: engines, steps, mismatches, what was not run, and each share's steps. */
export function parityJson(parity: SimulateResult) {
  return {
    engines: parity.engines,
    steps: parity.steps,
    mismatches: parity.mismatches,
    skipped: parity.skipped,
    shares: parity.shares.map(({ engine, target, steps }) => ({ engine, target, steps })),
  };
}
