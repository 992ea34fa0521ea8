/**
 * Estimated RAM of a loaded model on Espruino, in bytes and in memory blocks
 * (13-byte blocks on Puck.js / Pixl.js / Bangle.js 1; every board's in codegen/boards.ts):
 * a typed array of n bytes costs about 3 + ceil(n / blockSize) blocks (decoded
 * from base64: an atob string, blockSize - 4 bytes a block), each extra view 2 blocks. Source text of the module is counted separately.
 * With weights in flash (`weights: 'flash'`) the weights, tables and affine
 * doubles cost only their views.
 */
import { ROW_GROUP } from './flash-weights.ts';
import { needsNewHidden } from './emit-cells.ts';
import {
  resetsBeforeProduct,
  hasRecurrentBias,
  gateCount,
  hasCellState,
  isWindowModel,
  lastLayer,
  layerOutputSize,
  type QuantizedModel,
} from '../core/model.ts';

/** Characters (bytes) of a string in one Espruino block: the rest holds the block's flags and the link to the next. */
export const stringCharsPerBlock = (blockSize: number) => blockSize - 4;

export interface RamEstimate {
  /** Where the weights (and tables) are: RAM, or an Espruino Storage file viewed in place. */
  weights: 'ram' | 'flash';
  weightBytes: number;
  stateBytes: number;
  tableBytes: number;
  blocks: number;
  /** Of `blocks`: the decoded weight and table arrays (none with weights in flash), all made while the module loads. */
  weightBlocks: number;
  blockSize: number;
}

export function estimateRam(q: QuantizedModel, o: { blockSize?: number; weights?: 'ram' | 'flash' } = {}): RamEstimate {
  const blockSize = o.blockSize ?? 13;
  const I = q.layers[0].inputSize;
  const O = q.head.outputSize;
  const U = layerOutputSize(lastLayer(q));
  const windowed = isWindowModel(q);
  const directions = q.layers.flatMap((l) => (l.backward ? [l, l.backward] : [l]));
  const totalUnits = directions.reduce((s, l) => s + l.units, 0);
  // D, DB, and the embedding table EMB.
  const weightArrays: number[] = [O * U, O * 4, q.embedding ? q.embedding.tableQ.length : 0];
  // Y, XQ, YF, IG, IO (none with an embedding), OG, OO
  const affineIn = q.embedding ? 0 : I * 8;
  const flash = o.weights === 'flash';
  // With weights in flash the affine doubles are in the Storage file too.
  const stateArrays: number[] = [O * 4, I, O * 8, ...(flash ? [] : [affineIn, affineIn, O * 8, O * 8])];
  // Streaming: one V = [x, h0, h1, ...]. Window models: the input ring, HS, each direction's V, the sequences passed up, TOP.
  if (!windowed) stateArrays.push(I + totalUnits);
  else {
    stateArrays.push(q.window * I, totalUnits, ...directions.map((l) => l.inputSize + l.units));
    q.layers.forEach((l, i) => {
      if (i < q.layers.length - 1)
        stateArrays.push(q.window * layerOutputSize(l)); // SQ_i
      else if (l.backward) stateArrays.push(layerOutputSize(l)); // TOP
    });
  }
  // Head row views (RAM weights), H (HS)
  let views = (flash ? 0 : O) + 1;
  for (const layer of directions) {
    const rows = gateCount(layer.cell) * layer.units;
    const width = layer.inputSize + layer.units;
    // W, B, M, and P (peephole LSTM) / RB (GRU reset-after)
    weightArrays.push(rows * width, rows * 4, rows * 4, layer.peepholeMultiplier.length * 4, layer.recurrentBiasQ.length * 4);
    // C (LSTM family), VR (GRU: [input, r ⊙ h]), G, HN (the new h, but the GRU's)
    stateArrays.push(
      hasCellState(layer.cell) ? layer.units * 2 : 0,
      resetsBeforeProduct(layer.cell) ? width : 0,
      rows * 2,
      needsNewHidden(layer) ? layer.units : 0,
    );
    // Row views for E.convolve: the rows read whole in RU, one array of them per unit (an array and its name, as much as a view);
    // reset-after: the candidate rows' input and h parts, and XV; stacked or window: each direction's V, H, C, G views.
    // Weights in flash: one view per ROW_GROUP rows (each a view of its own buffer past 64 KiB: counted as 2 views).
    const resetAfter = hasRecurrentBias(layer.cell);
    const wholeRows = rows - (resetAfter ? layer.units : 0);
    views +=
      (flash ? 2 * Math.ceil(rows / ROW_GROUP) : wholeRows + layer.units + (resetAfter ? 2 * layer.units : 0)) +
      (resetAfter ? 1 : 0) +
      (directions.length > 1 ? 4 : 0);
  }
  // Weights in flash: one view per array of the file but the gate weights (their row groups are counted above),
  // the table and the affine doubles; and the file's string, its buffer, the Storage module and part().
  const affineArrays = q.embedding ? 2 : 4;
  const flashViews = flash ? weightArrays.filter((n) => n > 0).length - directions.length + 1 + affineArrays + 4 : 0;
  const tableArrays = [q.tables.tanhQ15.length * 2];
  // Arrays of size 0 (no cell state, no reset vector, ...) are left out of the count. State arrays are allocated
  // whole (flat: blockSize bytes a block); decoded ones are atob's strings, stringCharsPerBlock bytes a block.
  const blocksOf = (sizes: number[], perBlock = blockSize) => sizes.reduce((s, n) => s + (n > 0 ? 3 + Math.ceil(n / perBlock) : 0), 0);
  const decoded = stringCharsPerBlock(blockSize);
  const sum = (a: number[]) => a.reduce((s, n) => s + n, 0);
  const weightBlocks = flash ? 0 : blocksOf(weightArrays, decoded) + blocksOf(tableArrays, decoded);
  return {
    weights: flash ? 'flash' : 'ram',
    weightBytes: sum(weightArrays),
    stateBytes: sum(stateArrays),
    tableBytes: sum(tableArrays),
    blocks: weightBlocks + blocksOf(stateArrays) + (views + flashViews) * 2,
    weightBlocks,
    blockSize,
  };
}
