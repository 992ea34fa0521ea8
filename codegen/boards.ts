/**
 * Device budgets (`codegen --board`): what a loaded model needs on a board,
 * and what must be free while it loads, with its weights in RAM and in flash,
 * against the board's memory less a reserve for the app around the model.
 * Whether it fits is decided by the need while loading (the larger).
 *
 * Espruino boards count memory in blocks (JsVars) of 13 or 14 bytes
 * (Espruino's board files). A loaded model's blocks are estimated from
 * its parts, checked against the Linux build of Espruino 2v29 (27-byte
 * blocks) and the Bangle.js 2 firmware's emulator (14-byte blocks), whose
 * process.memory() after loading and one step the estimate must not be below
 * (test/codegen/boards.test.ts; within 1.6x of it on both):
 * - arrays and views: codegen/ram-estimate.ts;
 * - the module's functions: their source without comments, indentation and
 *   weight literals, at (blockSize - 3) characters per block (pretokenised
 *   code measured 23-37 characters per 27-byte block);
 * - `info` (weights in RAM only): one block per 7 characters of its JSON
 *   (measured: 711 characters, 99 blocks; it is mostly small values, one
 *   block each whatever the block size).
 * While loading (loadingBlocks): the module typed into the console as the IDE
 * uploads it, measured on the watch's emulator as the fewest free blocks
 * (left by a filler allocation) with which the module loads and steps: the
 * estimate must let it load, and 1/1.3 of it must not.
 * JerryScript: the module's weights, state and source text in its heap
 * (an upper bound: the engine keeps bytecode, not the text).
 */
import { estimateRam, stringCharsPerBlock } from './ram-estimate.ts';
import { moduleInfo, type EmitOptions } from './emit-module.ts';
import { gateCount, lastLayer, layerOutputSize, type QuantRecurrentLayer, type QuantizedModel } from '../core/model.ts';
import { UserError } from '../core/errors.ts';

export interface EspruinoBoard {
  kind: 'espruino';
  id: string;
  name: string;
  blocks: number;
  blockSize: number;
}

export interface JerryBoard {
  kind: 'jerryscript';
  id: string;
  name: string;
  heapBytes: number;
}

export type Board = EspruinoBoard | JerryBoard;

/** Espruino boards and their memory (blocks and block size, from Espruino's board files). */
export const ESPRUINO_BOARDS: readonly EspruinoBoard[] = [
  { kind: 'espruino', id: 'puckjs', name: 'Puck.js', blocks: 2630, blockSize: 13 },
  { kind: 'espruino', id: 'pixljs', name: 'Pixl.js', blocks: 2950, blockSize: 13 },
  { kind: 'espruino', id: 'mdbt42q', name: 'MDBT42Q', blocks: 2950, blockSize: 13 },
  { kind: 'espruino', id: 'banglejs1', name: 'Bangle.js 1', blocks: 2584, blockSize: 13 },
  { kind: 'espruino', id: 'banglejs2', name: 'Bangle.js 2', blocks: 12000, blockSize: 14 },
  { kind: 'espruino', id: 'pico', name: 'Pico', blocks: 5100, blockSize: 13 },
  { kind: 'espruino', id: 'wifi', name: 'WiFi', blocks: 8190, blockSize: 13 },
  { kind: 'espruino', id: 'original', name: 'Original', blocks: 2756, blockSize: 13 },
];

/** JerryScript's default heap (512 KiB). */
export const JERRY_DEFAULT_HEAP_KIB = 512;

/** The share of a board's memory left to the app around the model by default. */
export const DEFAULT_APP_SHARE = 0.25;

export const BOARD_NAMES = [...ESPRUINO_BOARDS.map((b) => b.id), 'jerryscript[:KiB]'];

/** "puckjs", "Puck.js", "bangle.js 2", "jerryscript", "jerryscript:256" -> a board. */
export function parseBoard(text: string): Board {
  const key = text.toLowerCase().replace(/[\s._-]/g, '');
  const jerry = /^jerryscript(?::(\d+))?$/.exec(key);
  if (jerry) {
    const kib = jerry[1] === undefined ? JERRY_DEFAULT_HEAP_KIB : Number(jerry[1]);
    if (!(kib >= 1 && kib <= 1 << 20)) throw new UserError(`--board ${text}: the JerryScript heap must be 1..${1 << 20} KiB`);
    return { kind: 'jerryscript', id: `jerryscript:${kib}`, name: `JerryScript (${kib} KiB heap)`, heapBytes: kib * 1024 };
  }
  const board = ESPRUINO_BOARDS.find((b) => b.id === key || b.name.toLowerCase().replace(/[\s._-]/g, '') === key);
  if (!board) throw new UserError(`--board ${text}: unknown board; expected one of ${BOARD_NAMES.join(', ')}`);
  return board;
}

/** Characters of generated code that stay in RAM as functions: no comments, indentation, line breaks or long string literals (weights). */
export function codeChars(code: string): number {
  // The base64 strings go first: one may hold "//", which must not read as a comment.
  return code
    .replace(/"[A-Za-z0-9+/=]{40,}"/g, '""')
    .replace(/\/\/.*$/gm, '')
    .replace(/^\s+/gm, '')
    .replace(/\n/g, '').length;
}

export interface PlacementNeed {
  weights: 'ram' | 'flash';
  /** Once loaded and stepped. Espruino: blocks; JerryScript: bytes. */
  total: number;
  /** While the module loads (its text, the base64 strings and the decoded arrays at once): what must be free. */
  peak: number;
  data: number;
  code: number;
  info: number;
  fits: boolean;
}

export interface BudgetReport {
  board: Board;
  /** What the model may use: the board's memory less the app reserve (blocks or bytes). */
  budget: number;
  appReserve: number;
  unit: 'blocks' | 'bytes';
  placements: PlacementNeed[];
  weightBytes: number;
}

/**
 * What the model needs on `board`, for each placement of its weights
 * (`codeByPlacement`: the generated module's text for that placement).
 */
export function deviceBudget(
  q: QuantizedModel,
  board: Board,
  codeByPlacement: { weights: 'ram' | 'flash'; code: string }[],
  emit: EmitOptions,
  appReserve?: number,
): BudgetReport {
  if (board.kind === 'jerryscript') {
    const reserve = appReserve ?? Math.round(board.heapBytes * DEFAULT_APP_SHARE);
    const ram = estimateRam(q, { blockSize: 1 });
    const placements = codeByPlacement
      .filter((p) => p.weights === 'ram')
      .map((p) => {
        const data = ram.weightBytes + ram.tableBytes + ram.stateBytes;
        const code = Buffer.byteLength(p.code);
        return {
          weights: p.weights,
          total: data + code,
          peak: data + code,
          data,
          code,
          info: 0,
          fits: data + code <= board.heapBytes - reserve,
        };
      });
    return { board, budget: board.heapBytes - reserve, appReserve: reserve, unit: 'bytes', placements, weightBytes: ram.weightBytes };
  }
  const reserve = appReserve ?? Math.round(board.blocks * DEFAULT_APP_SHARE);
  const infoChars = JSON.stringify(moduleInfo(q, emit)).length;
  const placements = codeByPlacement.map(({ weights, code }) => {
    const data = estimateRam(q, { blockSize: board.blockSize, weights }).blocks;
    const codeBlocks = Math.ceil(codeChars(code) / (board.blockSize - 3));
    const info = weights === 'ram' ? Math.ceil(infoChars / 7) : 0;
    const total = data + codeBlocks + info;
    const peak = total + loadingBlocks(code, board.blockSize, codeBlocks);
    return { weights, total, peak, data, code: codeBlocks, info, fits: peak <= board.blocks - reserve };
  });
  return {
    board,
    budget: board.blocks - reserve,
    appReserve: reserve,
    unit: 'blocks',
    placements,
    weightBytes: estimateRam(q).weightBytes,
  };
}

/**
 * What loading adds to the loaded model, in blocks: a module uploaded from the IDE is typed
 * into the console, which holds its whole text as one input line while it runs; the module's
 * outer function keeps a copy of its body (code and base64 literals); running it makes the
 * base64 strings (kept until every array is decoded), and decoding an array joins its base64
 * once more (the largest array counts).
 */
export function loadingBlocks(code: string, blockSize: number, codeBlocks: number): number {
  const per = stringCharsPerBlock(blockSize);
  const blocksOf = (chars: number) => Math.ceil(chars / per);
  // One array's base64: a string literal, or an array of chunk literals.
  const arrays = [...code.matchAll(/_B64 = (\[[^\]]*\]|"[^"]*");/g)].map((m) => (m[1]!.match(/[A-Za-z0-9+/=]/g) ?? []).length);
  const literals = arrays.reduce((s, n) => s + blocksOf(n), 0);
  const joined = arrays.reduce((most, n) => Math.max(most, blocksOf(n)), 0);
  return blocksOf(code.length) + codeBlocks + 2 * literals + joined;
}

/** One line per placement, for people. */
export function describeBudget(r: BudgetReport): string[] {
  const lines = [`${r.board.name}: ${r.budget + r.appReserve} ${r.unit}, ${r.appReserve} kept for the app: the model may use ${r.budget}`];
  for (const p of r.placements) {
    lines.push(
      `  weights in ${p.weights}: ~${p.total} ${r.unit} loaded (data and state ${p.data}, code ${p.code}${p.info ? `, info ${p.info}` : ''}), ~${p.peak} while loading: ${p.fits ? 'fits' : 'does not fit'}` +
        (p.fits ? '' : ` (${Math.round((100 * p.peak) / r.budget)}% of the budget)`),
    );
  }
  return lines;
}

/**
 * The same architecture with every layer's units scaled by units / (its last
 * layer's units), for sizes only (arrays of zeros): what a smaller model would need.
 */
export function withUnits(q: QuantizedModel, units: number): QuantizedModel {
  const factor = units / lastLayer(q).units;
  const resize = (l: QuantRecurrentLayer, inputSize: number): QuantRecurrentLayer => {
    const u = Math.max(1, Math.round(l.units * factor));
    const rows = gateCount(l.cell) * u;
    return {
      ...l,
      inputSize,
      units: u,
      weightsQ: new Int8Array(rows * (inputSize + u)),
      biasQ: new Int32Array(rows),
      gateMultiplier: new Int32Array(rows),
      rowScales: new Array<number>(rows).fill(1),
      columnScales: new Array<number>(inputSize + u).fill(1),
      peepholeMultiplier: new Int32Array(l.peepholeMultiplier.length ? 3 * u : 0),
      recurrentBiasQ: new Int32Array(l.recurrentBiasQ.length ? u : 0),
      ...(l.backward ? { backward: resize(l.backward, inputSize) } : {}),
    };
  };
  const layers: QuantRecurrentLayer[] = [];
  for (const l of q.layers) layers.push(resize(l, layers.length ? layerOutputSize(layers[layers.length - 1]!) : l.inputSize));
  const top = layerOutputSize(layers[layers.length - 1]!);
  return { ...q, layers, head: { ...q.head, inputSize: top, weightsQ: new Int8Array(q.head.outputSize * top) } };
}

/**
 * The refusal when the chosen placement does not fit: what would (weights in
 * flash, or the largest number of units that fits; `needOf`: what a model
 * needs with the chosen placement, as deviceBudget counts it).
 */
export function budgetRefusal(
  r: BudgetReport,
  chosen: 'ram' | 'flash',
  q: QuantizedModel,
  needOf: (m: QuantizedModel) => number,
): string | undefined {
  const p = r.placements.find((x) => x.weights === chosen) ?? r.placements[0]!;
  if (p.fits) return undefined;
  const flash = r.placements.find((x) => x.weights === 'flash');
  // The most units (the others scaled alike) whose need fits, by bisection: the need grows with the units.
  let fewer = 0;
  for (let lo = 1, hi = lastLayer(q).units - 1; lo <= hi;) {
    const u = (lo + hi) >> 1;
    if (needOf(withUnits(q, u)) <= r.budget) [fewer, lo] = [u, u + 1];
    else hi = u - 1;
  }
  const options = [
    ...(chosen === 'ram' && flash?.fits ? [`put the weights in flash (--weights flash: ~${flash.peak} ${r.unit} while loading)`] : []),
    ...(fewer ? [`retrain with ${fewer} units in the last layer (the others scaled alike) or fewer`] : []),
    `pick a larger board`,
  ];
  return `the model needs ~${p.peak} ${r.unit} on ${r.board.name} while it loads with weights in ${chosen} (~${p.total} once loaded), more than the ${r.budget} it may use (${r.appReserve} kept for the app); ${options.join(', or ')}`;
}
