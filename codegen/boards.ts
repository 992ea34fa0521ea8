/**
 * Device budgets (`codegen --board`): what a loaded model needs on a board,
 * and what must be free while it loads, with its weights in RAM and in flash,
 * against the board's memory less a reserve for the app around the model.
 * Whether it fits is decided by the need while loading (the larger), as the
 * model is deployed: `lstm-mcu flash` and the Bangle.js App Loader write the
 * app into a Storage file and load() it.
 *
 * Espruino boards count memory in blocks (JsVars) of 13 or 14 bytes
 * (Espruino's board files). A loaded model's blocks are estimated from
 * its parts, checked against the Bangle.js 2 firmware's emulator (14-byte
 * blocks; the module written into Storage in chunks and load()ed), whose
 * process.memory() after loading and one step the estimate must not be below
 * and within 1.3x of (test/codegen/boards.test.ts):
 * - arrays and views: codegen/ram-estimate.ts;
 * - the module's code: run from Storage, Espruino keeps each function's code
 *   as a reference into flash; its names, scopes and function objects stay in
 *   RAM, one block per STORAGE_CODE_CHARS_PER_BLOCK characters of code
 *   without comments, indentation and weight literals;
 * - `info` (weights in RAM only): one block per 7 characters of its JSON
 *   (measured: 711 characters, 99 blocks; it is mostly small values, one
 *   block each whatever the block size).
 * While loading from Storage: the base64 literals are copied into RAM (each
 * string literal is) and kept until every array is decoded, with the decoded
 * arrays and one array's join; or the loaded model and a step's locals. The
 * watch's firmware must load and step the module with the estimate's blocks
 * free (a filler allocation leaves them), and not with 1/1.3 of them.
 * Typed into the console instead (the IDE's upload, the project's watch
 * runner, `typed`): the functions' text is in RAM, at (blockSize - 3)
 * characters per block (pretokenised code measured 23-37 characters per
 * 27-byte block on the Linux build, which runs a file from RAM: the loaded
 * figure must not be below it and within 1.6x), and while it loads the
 * console's input line holds the whole text, the outer function keeps a copy
 * of its body and the base64 strings are made twice (typedLoadingBlocks;
 * within 1.3x of the watch too). pipeline/engine-capacity.ts holds engines
 * against that figure.
 * JerryScript: the module's weights, state and source text in its heap
 * (an upper bound: the engine keeps bytecode, not the text).
 */
import { estimateRam, stringCharsPerBlock, type RamEstimate } from './ram-estimate.ts';
import { moduleInfo, type EmitOptions } from './emit-module.ts';
import { gateCount, lastLayer, layerOutputSize, type QuantRecurrentLayer, type QuantizedModel } from '../core/model.ts';
import { UserError } from '../core/errors.ts';
import { nativeHeld } from './emit-native.ts';

export interface EspruinoBoard {
  kind: 'espruino';
  id: string;
  name: string;
  /** process.env.BOARD on its firmware: the name the module's load-time choice of kernel reads (NATIVE_BOARD_CPU). */
  envBoard?: string;
  blocks: number;
  blockSize: number;
  /** Storage in external SPI flash, not mapped into memory: with weights in flash the kernel cannot read them there. */
  storageExternal?: true;
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
  { kind: 'espruino', id: 'puckjs', envBoard: 'PUCKJS', name: 'Puck.js', blocks: 2630, blockSize: 13 },
  { kind: 'espruino', id: 'pixljs', envBoard: 'PIXLJS', name: 'Pixl.js', blocks: 2950, blockSize: 13 },
  { kind: 'espruino', id: 'mdbt42q', envBoard: 'MDBT42Q', name: 'MDBT42Q', blocks: 2950, blockSize: 13 },
  { kind: 'espruino', id: 'banglejs1', envBoard: 'BANGLEJS', name: 'Bangle.js 1', blocks: 2584, blockSize: 13, storageExternal: true },
  { kind: 'espruino', id: 'banglejs2', envBoard: 'BANGLEJS2', name: 'Bangle.js 2', blocks: 12000, blockSize: 14, storageExternal: true },
  { kind: 'espruino', id: 'pico', envBoard: 'PICO_R1_3', name: 'Pico', blocks: 5100, blockSize: 13 },
  { kind: 'espruino', id: 'wifi', envBoard: 'ESPRUINOWIFI', name: 'WiFi', blocks: 8190, blockSize: 13 },
  { kind: 'espruino', id: 'original', envBoard: 'ESPRUINOBOARD', name: 'Original', blocks: 2756, blockSize: 13 },
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

/** The load-time functions of the native step (codegen/es5/native-*.js), which the module drops once they have chosen. */
const DROPPED_AT_LOAD = /^( *)function (?:nativeCpu|nativeFlat|nativeLoad|nativeFlashLoad)\(.*\n(?:\1 .*\n|\s*\n)*?\1\}\n/gm;

/** Characters of code (as codeChars counts them) of the functions a module drops at load. */
export function droppedAtLoadChars(code: string): number {
  return [...code.matchAll(DROPPED_AT_LOAD)].reduce((n, m) => n + codeChars(m[0]), 0);
}

export interface PlacementNeed {
  weights: 'ram' | 'flash';
  /** Once loaded from Storage and stepped. Espruino: blocks; JerryScript: bytes. */
  total: number;
  /** What must be free while the module loads from Storage and steps (the need `fits` decides on). */
  peak: number;
  data: number;
  /** Espruino: what the module's code keeps in RAM when run from Storage (its functions stay in flash). */
  code: number;
  info: number;
  /** Typed into the console instead (the IDE's upload, the project's watch runner): the code is then in RAM, and the typed text too while it loads. */
  typed: { total: number; peak: number };
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
 * Characters of a module's code per block it keeps in RAM when it runs from Storage: Espruino
 * keeps each function's code as a reference into flash, and what stays in RAM are the names,
 * scopes and objects around them (measured on the watch's firmware: 115-138 blocks for modules
 * of 3,500-4,100 characters of code with weights in flash).
 */
export const STORAGE_CODE_CHARS_PER_BLOCK = 24;

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
        const need = { total: data + code, peak: data + code };
        return { weights: p.weights, ...need, data, code, info: 0, typed: need, fits: need.peak <= board.heapBytes - reserve };
      });
    return { board, budget: board.heapBytes - reserve, appReserve: reserve, unit: 'bytes', placements, weightBytes: ram.weightBytes };
  }
  const reserve = appReserve ?? Math.round(board.blocks * DEFAULT_APP_SHARE);
  const infoChars = JSON.stringify(moduleInfo(q, emit)).length;
  const placements = codeByPlacement.map(({ weights, code }) => {
    // Weights in flash on a board whose Storage is not memory-mapped: the module keeps the JavaScript step there.
    const held = weights === 'flash' && board.storageExternal ? undefined : nativeHeld(q, emit, weights === 'flash');
    const ram = estimateRam(q, { blockSize: board.blockSize, weights, native: held });
    const info = weights === 'ram' ? Math.ceil(infoChars / 7) : 0;
    const chars = codeChars(code);
    const codeBlocks = Math.ceil(chars / STORAGE_CODE_CHARS_PER_BLOCK);
    const total = ram.blocks + codeBlocks + info;
    const loading = ram.native
      ? nativeLoadingBlocks(code, board.blockSize, ram.native)
      : ram.weightBlocks + decodingBlocks(code, board.blockSize);
    const peak = Math.max(total + stepBlocks(code), codeBlocks + loading);
    // Typed: the functions' text in RAM, at (blockSize - 3) characters per block (once loaded, without the
    // load-time functions the module drops), and the typed text while it loads.
    const typedBlocks = (n: number) => Math.ceil(n / (board.blockSize - 3));
    const typedCode = typedBlocks(chars);
    const typedTotal = ram.blocks + typedBlocks(chars - droppedAtLoadChars(code)) + info;
    const typed = { total: typedTotal, peak: ram.blocks + typedCode + info + typedLoadingBlocks(code, board.blockSize, typedCode) };
    return { weights, total, peak, data: ram.blocks, code: codeBlocks, info, typed, fits: peak <= board.blocks - reserve };
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
 * Characters of each array's base64 in the module: a string literal, or an array of chunk literals;
 * and the native context's and each kernel's (NATIVE_CONTEXT, NATIVE_KERNELS), decoded at load too.
 */
function base64Lengths(code: string): number[] {
  return [...code.matchAll(/(?:_B64|NATIVE_CONTEXT) = (\[[^\]]*\]|"[^"]*");|\bm[34]: (\[[^\]]*\]|"[^"]*")/g)].map(
    (m) => ((m[1] ?? m[2])!.match(/[A-Za-z0-9+/=]/g) ?? []).length,
  );
}

/**
 * What decoding the weights holds besides the decoded arrays, in blocks: run from Storage, the
 * base64 literals are copied into RAM (kept until every array is decoded), and decoding an array
 * joins its base64 once more (the largest array counts).
 */
function decodingBlocks(code: string, blockSize: number): number {
  const blocksOf = (chars: number) => Math.ceil(chars / stringCharsPerBlock(blockSize));
  const arrays = base64Lengths(code);
  return arrays.reduce((s, n) => s + blocksOf(n), 0) + arrays.reduce((most, n) => Math.max(most, blocksOf(n)), 0);
}

/**
 * What loading a module that holds the native context holds at its fullest, in blocks: first, every
 * base64 literal (the step's weights', the context's, the kernels'), the context's flat string, and
 * where the kernel runs the kernel's (atob makes a large string flat, and E.toFlatString returns a flat
 * string as it is: measured on the watch, 3,815-3,875 blocks for an LSTM 3x32, estimated 4,222); then (the context's and
 * kernels' literals dropped) the step's literals, the context, and where the JavaScript step runs its
 * decoded arrays and the join of the largest. The larger of the two.
 */
function nativeLoadingBlocks(code: string, blockSize: number, n: NonNullable<RamEstimate['native']>): number {
  const blocksOf = (chars: number) => Math.ceil(chars / stringCharsPerBlock(blockSize));
  const step = stepBase64Lengths(code);
  const all = base64Lengths(code);
  const literals = (lengths: number[]) => lengths.reduce((s, n) => s + blocksOf(n), 0);
  const contextFirst = literals(all) + n.contextBlocks + n.kernelBlocks;
  const joined = step.reduce((most, c) => Math.max(most, blocksOf(c)), 0);
  const arraysThen = literals(step) + n.contextBlocks + n.stepArrayBlocks + joined;
  return Math.max(contextFirst, arraysThen);
}

/** Characters of the step's arrays' base64 only (the `_B64` literals). */
function stepBase64Lengths(code: string): number[] {
  return [...code.matchAll(/_B64 = (\[[^\]]*\]|"[^"]*");/g)].map((m) => (m[1]!.match(/[A-Za-z0-9+/=]/g) ?? []).length);
}

/**
 * What a step holds while it runs, in blocks: its locals (the parameters and var names of step and
 * stepQ), at two blocks each (measured on the watch: 32-40 blocks for 21-26 locals).
 */
function stepBlocks(code: string): number {
  const locals = [...code.matchAll(/function step\w*\(([^)]*)\) \{\n\s*var ([^;]*);/g)].reduce(
    (s, m) => s + m[1]!.split(',').filter((x) => x.trim()).length + m[2]!.split(',').length,
    0,
  );
  return 2 * locals;
}

/**
 * What loading adds to the loaded model when the module is typed into the console, in blocks:
 * the console holds its whole text as one input line while it runs; the module's outer function
 * keeps a copy of its body (code and base64 literals); running it makes the base64 strings (kept
 * until every array is decoded), and decoding an array joins its base64 once more (the largest
 * array counts). The native context's and kernels' base64 count once: the module drops those strings
 * before it decodes the step's arrays (measured on the watch, an LSTM 3x32 and an RNN 3x48 with the
 * native step load typed with about 11,250 and 8,900 blocks free; estimated 12,912 and 9,809).
 */
export function typedLoadingBlocks(code: string, blockSize: number, codeBlocks: number): number {
  const per = stringCharsPerBlock(blockSize);
  const blocksOf = (chars: number) => Math.ceil(chars / per);
  const arrays = base64Lengths(code);
  const sumOf = (lengths: number[]) => lengths.reduce((s, n) => s + blocksOf(n), 0);
  const literals = sumOf(arrays);
  const stepLiterals = sumOf(stepBase64Lengths(code));
  const joined = arrays.reduce((most, n) => Math.max(most, blocksOf(n)), 0);
  return blocksOf(code.length) + codeBlocks + literals + stepLiterals + joined;
}

/** One line per placement, for people. */
export function describeBudget(r: BudgetReport): string[] {
  const lines = [`${r.board.name}: ${r.budget + r.appReserve} ${r.unit}, ${r.appReserve} kept for the app: the model may use ${r.budget}`];
  for (const p of r.placements) {
    lines.push(
      `  weights in ${p.weights}: ~${p.total} ${r.unit} loaded (data and state ${p.data}, code ${p.code}${p.info ? `, info ${p.info}` : ''}), ~${p.peak} while loading from Storage: ${p.fits ? 'fits' : 'does not fit'}` +
        (p.fits ? '' : ` (${Math.round((100 * p.peak) / r.budget)}% of the budget)`) +
        (r.unit === 'blocks' ? `; sent to RAM by typing: ~${p.typed.peak} while loading` : ''),
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
      peepholeMultiplier: new Int32Array((l.peepholeMultiplier.length / l.units) * u),
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
    ...(chosen === 'ram' && flash?.fits
      ? [`put the weights in flash (--weights flash: ~${flash.peak} ${r.unit} while loading from Storage)`]
      : []),
    ...(fewer ? [`retrain with ${fewer} unit${fewer === 1 ? '' : 's'} in the last layer (the others scaled alike) or fewer`] : []),
    `pick a larger board`,
  ];
  const from = r.unit === 'blocks' ? ' from Storage' : '';
  return `the model needs ~${p.peak} ${r.unit} on ${r.board.name} while it loads${from} with weights in ${chosen} (~${p.total} once loaded), more than the ${r.budget} it may use (${r.appReserve} kept for the app); ${options.join(', or ')}`;
}
