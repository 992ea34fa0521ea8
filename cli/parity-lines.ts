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

/** One line per share: engines that replayed the same share are named together. */
export function shareLines(parity: SimulateResult): string[] {
  const groups: { share: SimulateResult['shares'][number]; engines: string[] }[] = [];
  for (const s of parity.shares) {
    const same = groups.find((g) => g.share.target === s.target && g.share.steps === s.steps && g.share.description === s.description);
    if (same) same.engines.push(s.engine);
    else groups.push({ share: s, engines: [s.engine] });
  }
  return groups.map(
    ({ share: s, engines }) =>
      `  ${s.target} on ${engines.join(' and ')}: ${s.steps} of those ${s.of} steps (${s.description}), as this target runs many times slower on Espruino's builds than the espruino target, which replays every step there`,
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
