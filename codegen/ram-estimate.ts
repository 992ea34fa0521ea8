/**
 * Estimated RAM of a loaded model on Espruino, in bytes and in memory blocks
 * (13-byte blocks on Puck.js / Pixl.js / Bangle.js 1; every board's in codegen/boards.ts):
 * a typed array of n bytes costs about 3 + ceil(n / blockSize) blocks (decoded
 * from base64: an atob string, blockSize - 4 bytes a block), each extra view 2 blocks. Source text of the module is counted separately.
 * With weights in flash (`weights: 'flash'`) the weights, tables and affine
 * doubles cost only their views.
 * Holding the native context (`native`, codegen/emit-native.ts): the context is
 * one flat string with TT a view of it, and which step runs is chosen at load.
 * Where the kernel runs, the module holds the context and the kernel (one flat string)
 * and the state, but not the JavaScript step's weights and row views; where it
 * does not, those as well as the context. The estimate is the larger of the two.
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

/** What a module holding the native step keeps besides its arrays: the context and the largest kernel it may load, in bytes. */
export interface NativeHeld {
  contextBytes: number;
  kernelBytes: number;
}

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
  /**
   * Holding the native context: blocks where the kernel runs and where the JavaScript step runs (`blocks` is the
   * larger); of them, the context's and the kernel's flat strings, and the step's decoded arrays (JavaScript path).
   */
  native?: { kernelPath: number; jsPath: number; contextBlocks: number; kernelBlocks: number; stepArrayBlocks: number };
}

export function estimateRam(
  q: QuantizedModel,
  o: { blockSize?: number; weights?: 'ram' | 'flash'; native?: NativeHeld } = {},
): RamEstimate {
  const js = arraysEstimate(q, o);
  if (!o.native) return js.estimate;
  return o.weights === 'flash' ? withNativeInFlash(js, o.native) : withNative(js, o.native);
}

/**
 * With weights in flash the JavaScript step's views stay on both paths; the kernel path adds the RAM part of
 * the context (`held.contextBytes`: header, descriptors, state) as a flat string with its ArrayBuffer, the
 * kernel's function (it runs from the file) and the 5 views of the context; the JavaScript path makes neither.
 */
function withNativeInFlash(js: ReturnType<typeof arraysEstimate>, held: NativeHeld): RamEstimate {
  const e = js.estimate;
  const context = 3 + Math.ceil(held.contextBytes / e.blockSize);
  const kernelPath = e.blocks + context + 3 + 2 * 5;
  return {
    ...e,
    blocks: kernelPath,
    weightBlocks: e.weightBlocks + context,
    native: { kernelPath, jsPath: e.blocks, contextBlocks: context, kernelBlocks: 3, stepArrayBlocks: e.weightBlocks },
  };
}

/** The JavaScript step's arrays and views (with the parts a native module replaces, for withNative). */
function arraysEstimate(q: QuantizedModel, o: { blockSize?: number; weights?: 'ram' | 'flash' }) {
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
  // Streaming: one V = [x, h0, h1, ...]. Window models: windowStateArrays.
  stateArrays.push(...(windowed ? windowStateArrays(q, directions) : [I + totalUnits]));
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
  const estimate: RamEstimate = {
    weights: flash ? 'flash' : 'ram',
    weightBytes: sum(weightArrays),
    stateBytes: sum(stateArrays),
    tableBytes: sum(tableArrays),
    blocks: weightBlocks + blocksOf(stateArrays) + (views + flashViews) * 2,
    weightBlocks,
    blockSize,
  };
  // What the kernel path does not build: the step's weights (all but the embedding table), the table, the row views.
  const embeddingBlocks = blocksOf([weightArrays[2]!], decoded);
  const tableBlocks = blocksOf(tableArrays, decoded);
  return {
    estimate,
    tableBlocks,
    stepWeightBlocks: flash ? 0 : weightBlocks - embeddingBlocks - tableBlocks,
    rowViews: views - 1 - (directions.length > 1 ? 4 * directions.length : 0),
  };
}

/** A window model's state: the input ring, HS, each direction's V, the sequences passed up (SQ_i), TOP. */
function windowStateArrays(q: QuantizedModel, directions: QuantizedModel['layers']): number[] {
  const totalUnits = directions.reduce((s, l) => s + l.units, 0);
  const out = [q.window * q.layers[0].inputSize, totalUnits, ...directions.map((l) => l.inputSize + l.units)];
  q.layers.forEach((l, i) => {
    if (i < q.layers.length - 1) out.push(q.window * layerOutputSize(l));
    else if (l.backward) out.push(layerOutputSize(l));
  });
  return out;
}

/**
 * The estimate of a module holding the context: TT is a view of the context (2 blocks, not its own array);
 * the context a flat string with its ArrayBuffer (3 blocks and its bytes); the kernel path also holds the
 * kernel in that flat string after a 4-byte trailer (its bytes), the entry stub's two native functions
 * (3 + 3 blocks) and 5 views of the context (x, h, c, gates, y),
 * without the step's weights and row views. Both paths make the context while loading (weightBlocks).
 */
function withNative(js: ReturnType<typeof arraysEstimate>, held: NativeHeld): RamEstimate {
  const e = js.estimate;
  const flat = (bytes: number) => 3 + Math.ceil(bytes / e.blockSize);
  const context = flat(held.contextBytes);
  const jsPath = e.blocks - js.tableBlocks + 2 + context;
  const kernelPath =
    e.blocks -
    js.tableBlocks -
    js.stepWeightBlocks -
    2 * js.rowViews +
    2 +
    context +
    Math.ceil((held.kernelBytes + 4) / e.blockSize) +
    2 * 3 +
    2 * 5;
  return {
    ...e,
    blocks: Math.max(jsPath, kernelPath),
    weightBlocks: e.weightBlocks - js.tableBlocks + context + flat(held.kernelBytes),
    native: {
      kernelPath,
      jsPath,
      contextBlocks: context,
      kernelBlocks: flat(held.kernelBytes),
      stepArrayBlocks: e.weightBlocks - js.tableBlocks,
    },
  };
}
