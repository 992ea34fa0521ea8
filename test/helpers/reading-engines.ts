/**
 * The engines a test of step(x) on real readings runs a target on: every engine available, and,
 * for the espruino target (the one a watch runs), the Bangle.js 2 firmware when BANGLE2_DIR is
 * set, with parity/watch-float64.ts typed in first (the emulator's own Float64Array does not hold
 * a double). One target only on the watch: each run there boots the firmware (seconds).
 */
import { availableEngines, type Engine } from '../../parity/engines.ts';
import type { Target } from '../../codegen/emit-module.ts';

export function readingEngines(target: Target): Engine[] {
  return availableEngines('real-readings').engines.filter((e) => e.name !== 'bangle2' || target === 'espruino');
}
