/**
 * npm run soak [-- --steps 1000000]: the generated code (both targets) and the
 * simulator side by side for a long run per cell kind, in Node's vm; exits
 * non-zero on the first difference. The test suite runs a shorter version.
 */
import { emitModule, TARGETS } from '../codegen/emit-module.ts';
import { soak } from '../parity/soak.ts';
import { CELL_KINDS } from '../core/model.ts';
import { randomQuantizedModel } from '../parity/random-model.ts';

const i = process.argv.indexOf('--steps');
const steps = i >= 0 ? Number(process.argv[i + 1]) : 1_000_000;
let failed = 0;
for (const cell of CELL_KINDS) {
  const q = randomQuantizedModel({ seed: 99, inputSize: 3, units: 16, cell, weightRange: 2 });
  for (const target of TARGETS) {
    const t0 = performance.now();
    const r = await soak(q, emitModule(q, { target, globalName: 'm', modelSha256: '', generatorVersion: 'soak' }), 'm', steps, 7);
    const s = ((performance.now() - t0) / 1000).toFixed(1);
    if (r.firstMismatch >= 0) failed++;
    console.log(
      `${cell} ${target}: ${r.firstMismatch < 0 ? `${steps} steps identical` : `DIFFERS at step ${r.firstMismatch}: ${r.what}`} (${s} s)`,
    );
  }
}
process.exit(failed ? 1 : 0);
