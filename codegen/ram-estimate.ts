/**
 * Estimated RAM of a loaded model on Espruino, in bytes and in memory blocks
 * (13-byte blocks on Puck.js / Pixl.js / Bangle.js 1; see targets.md):
 * a typed array of n bytes costs about 3 + ceil(n / blockSize) blocks, each
 * extra view 2 blocks. Source text of the module is counted separately.
 */
import { gateCount, hasCellState, type QuantizedModel } from '../runtime/model.ts';

export interface RamEstimate {
  weightBytes: number;
  stateBytes: number;
  tableBytes: number;
  blocks: number;
  blockSize: number;
}

export function estimateRam(q: QuantizedModel, blockSize = 13): RamEstimate {
  const { inputSize: I, units: U, cell } = q.recurrent;
  const O = q.head.outputSize;
  const rows = gateCount(cell) * U;
  const cellState = hasCellState(cell) ? U * 2 : 0;
  const resetVector = cell === 'gru' ? I + U : 0; // VR = [x, r ⊙ h]
  const peepholes = q.recurrent.peepholeMultiplier.length * 4; // P (peephole LSTM)
  const recurrentBias = q.recurrent.recurrentBiasQ.length * 4; // RB (GRU reset-after)
  const weightArrays = [rows * (I + U), rows * 4, rows * 4, O * U, O * 4, peepholes, recurrentBias]; // W, B, M, D, DB, P, RB
  const tableArrays = [q.tables.sigmoidQ15.length * 2, q.tables.tanhQ15.length * 2];
  const stateArrays = [I + U, cellState, resetVector, rows * 2, O * 4, I, O * 8, I * 8, I * 8, O * 8, O * 8]; // V, C, VR, G, Y, XQ, YF, IG, IO, OG, OO
  // Arrays of size 0 (no cell state, no reset vector, ...) are left out of the count.
  const blocksOf = (sizes: number[]) => sizes.reduce((s, n) => s + (n > 0 ? 3 + Math.ceil(n / blockSize) : 0), 0);
  // Row views for E.convolve and H (reset-after: the candidate rows' x and h parts, and XV).
  const views = (rows + O + 1 + (cell === 'gru-reset-after' ? 2 * U + 1 : 0)) * 2;
  const sum = (a: number[]) => a.reduce((s, n) => s + n, 0);
  return {
    weightBytes: sum(weightArrays),
    stateBytes: sum(stateArrays),
    tableBytes: sum(tableArrays),
    blocks: blocksOf(weightArrays) + blocksOf(tableArrays) + blocksOf(stateArrays) + views,
    blockSize,
  };
}
