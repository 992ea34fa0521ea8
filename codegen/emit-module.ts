/**
 * Generate one self-contained ES5 file for a quantized model: a plan of every
 * per-model constant (modulePlan), then one small emitter per section (data,
 * decoding, state, row views, reset, stepQ, step, forecast, classIndex, API),
 * each writing through the target's dialect (codegen/dialect.ts):
 * - `espruino`: dot products with E.convolve (as conv) over cached row views and
 *   weights decoded once with E.toArrayBuffer(atob(...)); both behind
 *   `typeof E !== "undefined"`, with the same sums in JS and the portable
 *   decoder as the fallback that gives identical integers.
 * - `es5`: portable loops and its own base64 decoder (JerryScript, Duktape, Node).
 * The constant ES5 (the decoder, the conv/clip fallbacks, the CRC-32) is in codegen/es5/.
 *
 * The file is a CommonJS / Espruino module body (`exports` provided) and a
 * plain script (then it defines the global named `info.globalName`).
 */
import { es5Lines } from './es5-source.ts';
import { jsonText, jsString } from './js-text.ts';
import { globalNameProblem } from './global-name.ts';
import {
  CELLS,
  readsCellBelow,
  resetsBeforeProduct,
  hasClock,
  hasRecurrentBias,
  PADDING_TOKEN,
  feedbackFeatures,
  gateCount,
  gateNames,
  hasCellState,
  isWindowModel,
  lastLayer,
  layerOutputSize,
  type QuantRecurrentLayer,
  type QuantizedModel,
} from '../core/model.ts';
import { GATE_IN_FRAC_BITS, HIDDEN_FRAC_BITS } from '../core/fixed-point.ts';
import { CodeBuilder } from './builder.ts';
import { toBase64LE } from './base64.ts';
import { emitSaturateInt8 } from './emit-primitives.ts';
import { emitArgumentCheck, emitNumberOr } from './emit-arguments.ts';
import { TARGETS, type Dialect, type Target } from './dialect.ts';
import { ESPRUINO, ESPRUINO_FLASH } from './dialect-espruino.ts';
import { PORTABLE } from './dialect-portable.ts';
import { STEP_LOCALS, emitCellStep, needsNewHidden, wholeRowGates } from './emit-cells.ts';
import { localsByReads } from './locals-order.ts';
import { emitWindowState, emitWindowStep } from './emit-window.ts';
import { assertBounds } from '../quantize/bounds.ts';
import { MAX_BYTE_OFFSET, ROW_GROUP, emitFlashViews, flashView, emitWeightsWriter, flashLayout } from './flash-weights.ts';
import { partBase64, partNames, rowMatrices, rowView, rowsPerPart, type RowMatrix } from './row-parts.ts';
import { affineArrays, constantArrays, directionPlans, flashArrays } from './module-data.ts';
import { emitFlashChoice } from './emit-native-flash.ts';
import {
  DEFAULT_NATIVE,
  emitNativeChoice,
  emitNativeContext,
  emitNativeData,
  emitNativeLoad,
  emitNativeStepQ,
  nativeConstantRegions,
  nativeInfo,
  nativeModule,
  type NativeOption,
} from './emit-native.ts';

export { TARGETS, type Target };

/** The dialect a target is written in (with weights in flash, Espruino reads rows in groups). */
const dialectOf = (target: Target, flash: boolean): Dialect => ({ espruino: flash ? ESPRUINO_FLASH : ESPRUINO, es5: PORTABLE })[target];

export interface EmitOptions {
  target: Target;
  /** Global defined when the file runs as a plain script. */
  globalName: string;
  /** sha256 of the quantized artifact. */
  modelSha256: string;
  generatorVersion: string;
  /** Longest base64 string literal (default BASE64_CHUNK). */
  base64Chunk?: number;
  /**
   * espruino target only: the constant arrays live in this Espruino Storage
   * file (flash-weights.ts), written by the program named `writer`; the
   * module then holds no weight data in RAM and no row views.
   */
  flash?: { file: string; writer: string };
  /** espruino target: the native kernels the module holds; es5 target: 'host', the host's kernel (codegen/emit-native.ts; default DEFAULT_NATIVE). */
  native?: NativeOption;
}

/** What the module holds of the native step, or why none. */
const nativeOf = (q: QuantizedModel, options: EmitOptions) =>
  nativeModule(q, options.target, options.native ?? DEFAULT_NATIVE, Boolean(options.flash));

/** Data and formats the generated module reports in `info` (also used for the .d.ts). */
export function moduleInfo(q: QuantizedModel, options: EmitOptions) {
  const first = q.layers[0];
  const last = lastLayer(q);
  const cellFormat = (l: QuantRecurrentLayer) => (hasCellState(l.cell) ? `Q${l.cellIntBits}.${15 - l.cellIntBits} int16` : 'none');
  return {
    globalName: options.globalName,
    target: options.target,
    generator: `lstm-mcu ${options.generatorVersion}`,
    modelSha256: options.modelSha256,
    cell: first.cell,
    task: q.task,
    headActivation: q.headActivation,
    inputSize: first.inputSize,
    /** Units of the last layer (the head's input). */
    units: last.units,
    /** Every recurrent layer, bottom first. */
    layers: q.layers.map((l) => ({
      cell: l.cell,
      inputSize: l.inputSize,
      units: l.units,
      ...(l.backward ? { bidirectional: l.merge } : {}),
      /** A bidirectional top layer whose head reads its output at the last step (absent: its final states). */
      ...(l.readout ? { readout: l.readout } : {}),
      ...(l.reverse ? { reverse: true } : {}),
    })),
    /** true: every step runs the model over the last `window` inputs (a bidirectional or reverse layer needs the whole window; a forward model deployed as a window runs as it was trained). */
    windowed: isWindowModel(q),
    /** The step that runs: 'm4' or 'm3' (the native kernel through E.nativeCall), 'host' (a JerryScript host's lstmNativeStep), or 'js: ' and why the JavaScript step runs. */
    native: nativeInfo(nativeOf(q, options), options.native ?? DEFAULT_NATIVE),
    outputSize: q.head.outputSize,
    window: q.window,
    horizon: q.horizon,
    targetMode: q.targetMode,
    baseFeatures: q.baseFeatures,
    featureNames: q.featureNames,
    targetNames: q.targetNames,
    /** The label of each class index: its text, or its number. */
    classLabels: q.classNames ?? q.classLabels,
    gateOrder: [...gateNames(first.cell)],
    formats: {
      input: q.embedding ? 'int8 embedding rows, per-column scale' : 'int8, per-feature scale',
      hidden: `Q0.${HIDDEN_FRAC_BITS} int8`,
      gateIn: `Q3.${GATE_IN_FRAC_BITS} int16`,
      gateOut: 'Q0.15 int16',
      cell: q.layers.length === 1 ? cellFormat(first) : q.layers.map((l, i) => `layer ${i}: ${cellFormat(l)}`).join('; '),
      output: 'int32 head accumulator',
    },
    inputScales: q.inputScales,
    outputScale: q.head.accScale,
    /** Embedding input: step([id]) reads token `id`; 0 is padding (no step); other ids outside 0..vocabularySize-1 read as unknownToken. */
    ...(q.embedding
      ? {
          embedding: {
            vocabularySize: q.embedding.vocabularySize,
            dim: q.embedding.dim,
            paddingToken: PADDING_TOKEN,
            unknownToken: q.embedding.unknownToken,
          },
        }
      : {}),
  };
}

/**
 * Longest string literal emitted: JerryScript's default build (16-bit
 * pointers) cannot parse a string literal of 64 KiB or more.
 * A multiple of 4, so every chunk is whole base64.
 */
export const BASE64_CHUNK = 60000;

/** A base64 literal: one string, or an array of chunks for long data. */
function base64Literal(chunk: number, data: Int8Array | Int16Array | Int32Array | Float64Array | string): string {
  if (chunk % 4 !== 0 || chunk < 4) throw new Error(`base64 chunk ${chunk} is not a positive multiple of 4`);
  const text = typeof data === 'string' ? data : toBase64LE(data);
  if (text.length <= chunk) return `"${text}"`;
  const chunks: string[] = [];
  for (let i = 0; i < text.length; i += chunk) chunks.push(`"${text.slice(i, i + chunk)}"`);
  return `[${chunks.join(', ')}]`;
}

/** The members a generated module exports. */
export function apiMembers(q: QuantizedModel): string[] {
  return [
    'reset',
    'stepQ',
    'step',
    ...(q.task === 'classification' ? ['classIndex'] : []),
    ...(q.sequence === 'one-to-many' ? ['forecast'] : []),
    'checksum',
    'info',
    'state',
  ];
}

export function emitModule(q: QuantizedModel, options: EmitOptions): string {
  const problem = globalNameProblem(options.globalName);
  if (problem) throw new Error(`global name '${options.globalName}' ${problem}`);
  if (options.flash && options.target !== 'espruino')
    throw new Error(`weights in flash are for the espruino target, not ${options.target}`);
  const bounds = assertBounds(q, 'codegen');
  const { layers, head } = q;
  const NI = layers[0].inputSize;
  const NO = head.outputSize;
  const info = moduleInfo(q, options);
  const b = new CodeBuilder();

  // ---- provenance header
  b.comment(`lstm-mcu model: generated by lstm-mcu ${options.generatorVersion}, target ${options.target}. Generated — do not edit.`);
  b.comment(`quantized model sha256 ${options.modelSha256}`);
  b.comment(`float model sha256 ${q.floatModelSha256}`);
  b.comment(`trained on ${q.provenance.data} (sha256 ${q.provenance.dataSha256.slice(0, 16)}…), seed ${q.provenance.seed}`);
  const stack = layers
    .map(
      (l) =>
        `${l.backward ? `bidirectional (${l.merge}${l.readout ? `, read ${l.readout}` : ''}) ` : l.reverse ? 'reverse ' : ''}${CELLS[l.cell].codeTitle} ${l.units} units`,
    )
    .join(' -> ');
  const inputs = q.embedding
    ? `token id (vocabulary ${q.embedding.vocabularySize}) -> embedding ${NI} int8`
    : `${NI} inputs (${q.featureNames.join(', ')})`;
  b.comment(`${inputs} -> ${stack} -> dense ${NO} (${q.task}); window ${q.window}, horizon ${q.horizon}`);
  b.comment(
    `Numeric contract: docs/NUMERICS.md. Gate order: ${layers
      .map((l) => gateNames(l.cell).join(', '))
      .filter((g, i, all) => all.indexOf(g) === i)
      .join(' / ')}.`,
  );
  b.comment(
    `Formats: x int8 (per-feature scale), h Q0.7 int8, gate in Q3.12, gate out Q0.15, ` +
      `cell ${info.formats.cell}, output int32 accumulator.`,
  );
  b.comment('Proven bounds (worst case over all inputs and states):');
  for (const c of bounds) b.comment(`  ${c.name} <= ${c.bound} < ${c.limit}`);
  b.comment(`API: reset(); stepQ(xq) -> Int32Array; step(${q.embedding ? '[tokenId]' : 'x'}) -> Float64Array; info; state {h, c, gates}.`);
  b.comment('stepQ and step return buffers owned by the model: copy them to keep them past the next step.');
  dialectOf(options.target, Boolean(options.flash)).wrapModule(b, options.globalName, (beforeReturn) =>
    emitBody(b, q, options, info, beforeReturn),
  );
  b.block('if (typeof exports !== "undefined") {', () => {
    for (const key of apiMembers(q)) {
      // Weights in flash: info is read from the Storage file when asked for, not kept in RAM.
      if (key === 'info' && options.flash)
        b.line(`Object.defineProperty(exports, "info", { get: function () { return ${options.globalName}.info; }, enumerable: true });`);
      else b.line(`exports.${key} = ${options.globalName}.${key};`);
    }
  });
  return b.toString();
}

/**
 * The layout of a flash-weights module's Storage file. Its bytes do not depend on the file's
 * name (moduleInfo holds no flash option), so a name may be derived from them.
 */
export const flashFileLayout = (q: QuantizedModel, options: EmitOptions) =>
  flashLayout(flashArrays(q, moduleInfo(q, options), nativeOf(q, options)));

/** The Storage file of a flash-weights module: its bytes and the program that writes it on the board. */
export function flashWeights(q: QuantizedModel, options: EmitOptions): { bytes: Uint8Array; writer: string } {
  if (!options.flash) throw new Error('flashWeights: the options name no flash file');
  const layout = flashFileLayout(q, options);
  const header = [
    `lstm-mcu weights writer: generated by lstm-mcu ${options.generatorVersion} for ${options.globalName}. Generated — do not edit.`,
    `quantized model sha256 ${options.modelSha256}`,
  ];
  return { bytes: layout.bytes, writer: emitWeightsWriter(layout, options.flash.file, header) };
}

function emitBody(
  b: CodeBuilder,
  q: QuantizedModel,
  options: EmitOptions,
  info: ReturnType<typeof moduleInfo>,
  beforeReturn?: () => void,
): void {
  const plan = modulePlan(q, options, info);
  emitData(b, q, plan);
  emitDecoding(b, q, plan);
  emitState(b, q, plan);
  emitRowViews(b, q, plan);
  emitNativeLoad(b, plan.native, plan.NI, plan.NO, plan.stateH);
  emitReset(b, q, plan);
  emitStepQ(b, q, plan);
  emitRealStep(b, q, plan);
  if (q.sequence === 'one-to-many') emitForecast(b, q, plan);
  emitClassIndex(b, q, plan);
  emitApi(b, q, plan, info, beforeReturn);
}

/**
 * Every per-model constant of the module, computed once: the sections below
 * read them, none recomputes one.
 */
function modulePlan(q: QuantizedModel, options: EmitOptions, info: ReturnType<typeof moduleInfo>) {
  const flash = options.flash;
  // Row views cost RAM (two or more blocks each); with weights in flash, E.convolve reads rows at an offset instead.
  const dialect = dialectOf(options.target, Boolean(flash));
  // Weights in flash: the Storage file's layout, computed once for the views and for info.
  const native = nativeOf(q, options);
  const layout = flash ? flashLayout(flashArrays(q, info, native)) : undefined;
  const chunk = options.base64Chunk ?? BASE64_CHUNK;
  const { layers, head } = q;
  const L = layers.length;
  const stacked = L > 1;
  const windowed = isWindowModel(q);
  const plans = directionPlans(q);
  const forwardPlans = plans.filter((p) => !p.backward);
  const names = forwardPlans.map((p) => p.n);
  const NI = layers[0].inputSize;
  const NO = head.outputSize;
  const last = lastLayer(q);
  const lastNames = names[L - 1];
  const headIn = layerOutputSize(last);
  const totalUnits = plans.reduce((s, p) => s + p.layer.units, 0);
  const totalCells = plans.reduce((s, p) => s + (hasCellState(p.layer.cell) ? p.layer.units : 0), 0);
  const totalRows = plans.reduce((s, p) => s + gateCount(p.layer.cell) * p.layer.units, 0);
  const arrays = constantArrays(q);
  // Espruino row views of weights in RAM start within byte 65535 of their buffer: larger matrices are decoded in parts.
  const parted = new Map<string, { m: RowMatrix; perPart: number }>();
  if (dialect.rowViews)
    for (const m of rowMatrices(plans, head.outputSize, layerOutputSize(lastLayer(q)), (p) => gateCount(p.layer.cell))) {
      const perPart = rowsPerPart(m);
      if (perPart !== undefined) parted.set(m.name, { m, perPart });
    }
  // The API's h: one layer's H, or every layer's HS.
  const stateH = stacked || windowed ? 'HS' : 'H';
  return {
    native,
    stateH,
    dialect,
    flash,
    layout,
    chunk,
    layers,
    head,
    L,
    stacked,
    windowed,
    plans,
    forwardPlans,
    names,
    NI,
    NO,
    last,
    lastNames,
    headIn,
    totalUnits,
    totalCells,
    totalRows,
    arrays,
    parted,
  };
}

type ModulePlan = ReturnType<typeof modulePlan>;

/** With the native step and weights in RAM, the tanh table TT is read from the native context (one copy in RAM for both steps). */
const inContext = (plan: ModulePlan, name: string): boolean => plan.native.kind === 'native' && !plan.native.flash && name === 'TT';

/** The arrays only the JavaScript step reads (not built where the kernel runs): every constant array but the embedding table and TT. */
const stepOnly = (plan: ModulePlan, name: string): boolean => plan.native.kind === 'native' && name !== 'EMB' && name !== 'TT';

/** The constant arrays: base64 literals (weights in RAM) or a list of what the flash file holds. */
function emitData(b: CodeBuilder, q: QuantizedModel, plan: ModulePlan): void {
  const { flash, chunk, arrays } = plan;
  // ---- data
  if (flash) {
    b.comment('---- data');
    for (const a of arrays) b.comment(`${a.name}: ${a.what}`);
  } else {
    b.comment('---- data: little-endian base64, decoded once at load');
    for (const a of arrays) {
      b.comment(`${a.name}: ${a.what}`);
      const parts = plan.parted.get(a.name);
      if (inContext(plan, a.name)) b.comment(`  (held in NATIVE_CONTEXT below)`);
      else if (!parts) b.line(`var ${a.name}_B64 = ${base64Literal(chunk, a.values)};`);
      else {
        b.comment(`  in parts of ${parts.perPart} rows: a view past byte ${MAX_BYTE_OFFSET} of one buffer does not load on Espruino`);
        partNames(parts.m, parts.perPart).forEach((name, k) =>
          b.line(`var ${name}_B64 = ${base64Literal(chunk, partBase64(a.values as Int8Array, parts.m, parts.perPart, k))};`),
        );
      }
    }
    emitNativeData(b, plan.native, chunk);
  }
  b.line('');
}

/** Decoding the data once at load: conv and clip, the base64 decoder, or the views of the flash file. */
function emitDecoding(b: CodeBuilder, q: QuantizedModel, plan: ModulePlan): void {
  const { dialect, flash, layout, chunk, plans, arrays } = plan;
  // ---- decoding
  b.block('if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {', () => {
    b.line('throw new Error("lstm-mcu model: this engine is big-endian; weights are little-endian");');
  });
  b.snippet(dialect.builtins);
  if (flash) {
    emitFlashViews(b, layout!, flash.file, flash.writer, (e) => {
      // Gate weights: views of ROW_GROUP rows each (E.convolve reads row r at (r % ROW_GROUP) * NV in group r / ROW_GROUP).
      const p = plans.find((x) => x.n.W === e.name);
      if (!p) return false;
      const NV = p.layer.inputSize + p.layer.units;
      const ROWS = gateCount(p.layer.cell) * p.layer.units;
      b.line(`var ${p.n.RW} = []; // ${e.name} in groups of ${ROW_GROUP} rows`);
      const view = flashView(
        'Int8Array',
        `${e.offset} + r * ${NV}`,
        `Math.min(${ROW_GROUP}, ${ROWS} - r) * ${NV}`,
        e.offset + (ROWS - 1) * NV,
      );
      b.line(`for (r = 0; r < ${ROWS}; r += ${ROW_GROUP}) ${p.n.RW}.push(${view});`);
      return true;
    });
    if (plan.native.kind === 'native') emitFlashChoice(b, plan.native, flash.file);
  } else {
    b.snippet(
      es5Lines('base64-decoder', {
        words: { CHUNK: String(chunk) },
        lines: { NATIVE: [...dialect.nativeBase64] },
      }),
    );
    const own = arrays.filter((a) => !inContext(plan, a.name));
    if (plan.native.kind === 'native') {
      emitNativeContext(b, plan.native, q.tables.tanhQ15.length);
      emitNativeChoice(b, plan.native);
    }
    const decode = (a: (typeof own)[number]) => {
      const parts = plan.parted.get(a.name);
      if (!parts) b.line(`var ${a.name} = new ${a.values.constructor.name}(buf(${a.name}_B64));`);
      else {
        const names = partNames(parts.m, parts.perPart);
        b.line(`var ${names.map((name) => `${name} = new Int8Array(buf(${name}_B64))`).join(', ')};`);
        b.line(`var ${a.name} = [${names.join(', ')}]; // the parts of ${a.name}, in row order`);
      }
    };
    own.filter((a) => !stepOnly(plan, a.name)).forEach(decode);
    const forStep = own.filter((a) => stepOnly(plan, a.name));
    if (forStep.length && plan.native.kind === 'native')
      b.block('if (!NK) {', () => {
        b.comment('the JavaScript step runs: its weights, decoded (where the kernel runs, the context holds them once)');
        forStep.forEach(decode);
      });
    else forStep.forEach(decode);
    b.line(
      `${own
        .flatMap((a) => dataNames(plan, a.name))
        .map((name) => `${name}_B64`)
        .join(' = ')} = undefined;`,
    );
  }
  b.line('');
}

/** The state, allocated once: streaming (one layer or a stack in one buffer) or a window ring. */
function emitState(b: CodeBuilder, q: QuantizedModel, plan: ModulePlan): void {
  const { dialect, flash, chunk, layers, stacked, windowed, plans, names, NI, NO, totalUnits, totalCells, totalRows } = plan;
  // ---- state
  b.comment('---- state, allocated once');
  if (windowed) {
    emitWindowState(b, q, plans, dialect);
  } else if (!stacked) {
    const layer = layers[0];
    const NU = layer.units;
    const K = layer.cellIntBits;
    const withCell = hasCellState(layer.cell);
    b.line(`var V = new Int8Array(${NI + NU}); // v = [x int8 (${NI}), h Q0.7 (${NU})]`);
    b.line(`var H = new Int8Array(V.buffer, ${NI}, ${NU}); // h Q0.7, a view of v`);
    if (resetsBeforeProduct(layer.cell))
      b.line(`var VR = new Int8Array(${NI + NU}); // v' = [x int8, r ⊙ h Q0.7]: input of the candidate rows`);
    if (hasRecurrentBias(layer.cell) && dialect.inputView) b.line(`var XV = new Int8Array(V.buffer, 0, ${NI}); // x, a view of v`);
    b.line(`var C = new Int16Array(${withCell ? NU : 0}); // ${withCell ? `cell Q${K}.${15 - K}` : 'no cell state in this cell kind'}`);
    b.line(`var G = new Int16Array(${totalRows}); // gate outputs Q0.15, gate order ${gateNames(layer.cell).join(', ')}`);
  } else {
    b.comment(
      `one int8 buffer [x (${NI}), ${layers.map((l, i) => `h${i} (${l.units})`).join(', ')}]: layer l's v = [input, h_l] is a view of it,`,
    );
    b.comment('so each layer reads the h the layer below has just written, and its own previous h');
    b.line(`var V = new Int8Array(${NI + totalUnits});`);
    b.line(`var HS = new Int8Array(V.buffer, ${NI}, ${totalUnits}); // every layer's h, Q0.7`);
    b.line(`var C = new Int16Array(${totalCells}); // cell states of the LSTM-family layers`);
    b.line(`var G = new Int16Array(${totalRows}); // gate outputs Q0.15 of every layer`);
    let hStart = NI;
    let cStart = 0;
    let gStart = 0;
    layers.forEach((layer, l) => {
      const n = names[l];
      const NU = layer.units;
      const K = layer.cellIntBits;
      const withCell = hasCellState(layer.cell);
      const rows = gateCount(layer.cell) * NU;
      b.comment(
        `layer ${l}: ${CELLS[layer.cell].codeTitle}, ${NU} units, gate order ${gateNames(layer.cell).join(', ')}${withCell ? `, cell Q${K}.${15 - K}` : ''}`,
      );
      b.line(`var ${n.V} = new Int8Array(V.buffer, ${hStart - layer.inputSize}, ${layer.inputSize + NU}); // v = [input, h${l}]`);
      b.line(`var ${n.H} = new Int8Array(V.buffer, ${hStart}, ${NU});`);
      if (withCell) b.line(`var ${n.C} = new Int16Array(C.buffer, ${cStart * 2}, ${NU});`);
      b.line(`var ${n.G} = new Int16Array(G.buffer, ${gStart * 2}, ${rows});`);
      if (resetsBeforeProduct(layer.cell)) b.line(`var ${n.VR} = new Int8Array(${layer.inputSize + NU}); // v' = [input, r ⊙ h]`);
      if (hasRecurrentBias(layer.cell) && dialect.inputView)
        b.line(`var ${n.XV} = new Int8Array(V.buffer, ${hStart - layer.inputSize}, ${layer.inputSize}); // the input part of v`);
      hStart += NU;
      cStart += withCell ? NU : 0;
      gStart += rows;
    });
  }
  b.line(`var Y = new Int32Array(${NO}); // head accumulator`);
  b.line(`var XQ = new Int8Array(${NI}); // step(): quantized readings`);
  b.line(`var YF = new Float64Array(${NO}); // step(): real outputs`);
  // Doubles travel as their IEEE-754 bytes: engines that parse decimal literals
  // inexactly (Espruino) still get the very same values.
  if (q.embedding) b.comment('step(): xq = EMB row of the token id; y = acc * OG + OO (normalization baked in)');
  else b.comment('step(): xq = sat8(floor(x * IG + IO + 0.5)); y = acc * OG + OO (normalization baked in)');
  for (const a of affineArrays(q)) {
    b.comment(`${a.name}: ${a.what} = [${Array.from(a.values).join(', ')}]`);
    if (!flash) b.line(`var ${a.name} = new Float64Array(buf(${base64Literal(chunk, a.values)}));`);
  }
  const clocked = plans.filter((p) => hasClock(p.layer.cell));
  if (clocked.length > 0) b.line(`var ${clocked.map((p) => `${p.n.CK} = 0`).join(', ')}; // clock counter t of each clockwork layer (§5i)`);
  const newHidden = plans.filter((p) => needsNewHidden(p.layer));
  if (newHidden.length > 0) {
    b.comment('the new h of a layer, written while its rows still read the old h, then copied into h');
    b.line(`var ${newHidden.map((p) => `${p.n.HN} = new Int8Array(${p.layer.units})`).join(', ')};`);
  }
}

/** Espruino with weights in RAM: cached row views for conv, one per unit and head row. */
function emitRowViews(b: CodeBuilder, q: QuantizedModel, plan: ModulePlan): void {
  const { dialect } = plan;
  if (dialect.rowViews && plan.native.kind === 'native') {
    b.comment('the JavaScript step runs: its row views (none where the kernel runs)');
    b.block('if (!NK) {', () => emitRowViewLines(b, plan));
  } else if (dialect.rowViews) emitRowViewLines(b, plan);
  b.line('');
}

/** The row views themselves: RU, the reset-after candidate parts, RD. */
function emitRowViewLines(b: CodeBuilder, plan: ModulePlan): void {
  const { plans, NO, headIn } = plan;
  b.comment('cached row views for conv: RU[u] = the rows of unit u read whole, in gate order; one per head row');
  const views = plans.flatMap(({ layer, n }) => [n.RU, ...(hasRecurrentBias(layer.cell) ? [n.RWX, n.RWH] : [])]);
  b.line(`var ${[...views, 'RD'].map((v) => `${v} = []`).join(', ')}, r;`);
  plans.forEach(({ layer, n }) => {
    const NU = layer.units;
    const NV = layer.inputSize + NU;
    const ROWS = gateCount(layer.cell) * NU;
    const view = viewOf(plan, n.W, ROWS, NV);
    const row = (g: number) => view(g * NU ? `${g * NU} + r` : 'r', '0', NV);
    b.line(`for (r = 0; r < ${NU}; r++) ${n.RU}.push([${wholeRowGates(layer).map(row).join(', ')}]);`);
    if (hasRecurrentBias(layer.cell)) {
      b.comment('reset-after candidate rows: the input part and the h part, one view each');
      b.line(
        `for (r = ${ROWS - layer.units}; r < ${ROWS}; r++) { ${n.RWX}.push(${view('r', '0', layer.inputSize)}); ` +
          `${n.RWH}.push(${view('r', String(layer.inputSize), layer.units)}); }`,
      );
    }
  });
  b.line(`for (r = 0; r < ${NO}; r++) RD.push(${viewOf(plan, 'D', NO, headIn)('r', '0', headIn)});`);
}

/** Row views of a matrix, over its one buffer or its parts (codegen/row-parts.ts). */
function viewOf(plan: ModulePlan, name: string, rows: number, width: number) {
  const parts = plan.parted.get(name);
  const m = parts?.m ?? { name, rows, width, innerStart: 0 };
  return (row: string, inner: string, length: number) => rowView(m, parts?.perPart, row, inner, length);
}

/** The arrays that hold a constant's bytes: itself, or its parts in row order. */
function dataNames(plan: ModulePlan, name: string): string[] {
  const parts = plan.parted.get(name);
  return parts ? partNames(parts.m, parts.perPart) : [name];
}

/** reset(): zero the state. */
function emitReset(b: CodeBuilder, q: QuantizedModel, plan: ModulePlan): void {
  const { windowed, NI, NO, totalUnits, totalCells, totalRows, native, stateH } = plan;
  b.block('function reset() {', () => {
    b.line('var i;');
    if (native.kind === 'native') b.line(`if (NK) for (i = 0; i < ${totalUnits}; i++) ${stateH}[i] = 0; // h in the native context`);
    if (windowed) {
      b.line('XN = 0; XP = 0;');
      b.line(`for (i = 0; i < ${totalUnits}; i++) HS[i] = 0;`);
    } else b.line(`for (i = 0; i < ${NI + totalUnits}; i++) V[i] = 0;`);
    if (totalCells > 0) b.line(`for (i = 0; i < ${totalCells}; i++) C[i] = 0;`);
    b.line(`for (i = 0; i < ${totalRows}; i++) G[i] = 0;`);
    b.line(`for (i = 0; i < ${NO}; i++) Y[i] = 0;`);
    const clocks = plan.plans.filter((p) => hasClock(p.layer.cell)).map((p) => `${p.n.CK} = 0;`);
    if (clocks.length > 0) b.line(`${clocks.join(' ')} // the clock restarts`);
    if (q.sequence === 'one-to-many')
      b.line(`for (i = 0; i < ${NI}; i++) XL[i] = NaN; // forecast() right after reset(): readings unknown`);
  });
  b.line('');
}

/** stepQ(xq): one step on int8 inputs, every layer then the head. */
function emitStepQ(b: CodeBuilder, q: QuantizedModel, plan: ModulePlan): void {
  const { dialect, layers, L, stacked, windowed, plans, names, NI, NO, last, lastNames, headIn } = plan;
  // ---- step
  b.comment('One time step on int8 inputs xq (length ' + NI + '); returns the head accumulator Y.');
  b.block('function stepQ(xq) {', () => {
    // The locals the body uses, the most read first (Espruino walks the list to find a name): codegen/locals-order.ts.
    const declaration = b.reserve();
    emitArgumentCheck(b, 'xq', 'stepQ(xq)', NI, 'int8 inputs');
    const declare = () => {
      const body = b.textAfter(declaration).replace(/\/\/.*$/gm, '');
      const used = localsByReads(body, [...STEP_LOCALS, 'ts', 'sl']);
      b.fill(declaration, `var ${used.join(', ')};`);
    };
    if (windowed) {
      emitWindowStep(b, q, plans, dialect);
      emitHead(b, NO, headIn, last.backward ? 'TOP' : lastNames.H, dialect);
      b.line('return Y;');
      declare();
      return;
    }
    b.comment('v[0..NI) = sat8(xq), a non-number 0');
    const gru0 = resetsBeforeProduct(layers[0].cell);
    b.block(`for (i = 0; i < ${NI}; i++) {`, () => {
      b.line('z = xq[i];');
      emitNumberOr(b, 'z', '0');
      emitSaturateInt8(b, 'z');
      b.line(gru0 ? `V[i] = ${names[0].VR}[i] = z;` : 'V[i] = z;');
    });
    layers.forEach((layer, l) => {
      if (stacked) b.comment(`==== layer ${l}: ${CELLS[layer.cell].codeTitle}, ${layer.units} units, input ${l === 0 ? 'x' : `h${l - 1}`}`);
      if (l > 0 && resetsBeforeProduct(layer.cell)) {
        b.comment(`v' input part = h${l - 1} (this step's)`);
        b.line(`for (i = 0; i < ${layer.inputSize}; i++) ${names[l].VR}[i] = ${names[l].V}[i];`);
      }
      // a depth-gated layer reads the cell state of the layer below (§5j)
      const n = readsCellBelow(layer.cell) ? { ...names[l], CB: names[l - 1].C } : names[l];
      emitCellStep({ b, layer, n, dialect });
    });
    if (stacked) b.comment(`the head reads h of layer ${L - 1}`);
    emitHead(b, NO, headIn, lastNames.H, dialect);
    b.line('return Y;');
    declare();
  });
  b.line('');
  emitNativeStepQ(b, plan.native, NI, () => emitArgumentCheck(b, 'xq', 'stepQ(xq)', NI, 'int8 inputs'));
}

/** step(x) on real readings (or a token id): quantize, stepQ, dequantize. */
function emitRealStep(b: CodeBuilder, q: QuantizedModel, plan: ModulePlan): void {
  const { NI, NO } = plan;
  if (q.embedding) emitTokenStep(b, q, NI, NO);
  else b.comment('Real readings in, real outputs out. NaN / non-number readings count as the mean; ±Infinity saturates.');
  if (!q.embedding)
    b.block('function step(x) {', () => {
      b.line('var i, v, q;');
      emitArgumentCheck(b, 'x', 'step(x)', NI, 'readings');
      b.block(`for (i = 0; i < ${NI}; i++) {`, () => {
        b.line('v = x[i];');
        emitNumberOr(b, 'v', 'NaN');
        b.line('if (v === Infinity) q = 127;');
        b.line('else if (v === -Infinity) q = -128;');
        b.line('else if (v !== v) q = 0;');
        b.block('else {', () => {
          b.line('q = Math.floor(v * IG[i] + IO[i] + 0.5);');
          emitSaturateInt8(b, 'q');
        });
        b.line('XQ[i] = q;');
        if (q.sequence === 'one-to-many') b.line('XL[i] = v; // for forecast(): the reading as read, NaN if missing');
      });
      b.line('stepQ(XQ);');
      b.line(`for (i = 0; i < ${NO}; i++) YF[i] = Y[i] * OG[i] + OO[i];`);
      if (q.targetMode === 'change') {
        b.comment(
          'target mode "change": the forecast is the current reading plus the predicted change (NaN if that reading is not finite)',
        );
        q.baseFeatures.forEach((f, k) => {
          b.line(`v = x[${f}];`);
          emitNumberOr(b, 'v', 'NaN');
          b.line(`YF[${k}] = (v - v === 0 ? v : NaN) + YF[${k}];`);
        });
      }
      b.line('return YF;');
    });
  b.line('');
}

/** classIndex() of a classifier. */
function emitClassIndex(b: CodeBuilder, q: QuantizedModel, plan: ModulePlan): void {
  const { NO } = plan;
  if (q.task === 'classification' && q.headActivation === 'sigmoid') {
    b.comment(
      "Classification, sigmoid head: class 1 when the last step's logit is positive (σ > 1/2), else 0; info.classLabels[i] is its label.",
    );
    b.block('function classIndex() {', () => b.line('return Y[0] > 0 ? 1 : 0;'));
    b.line('');
  } else if (q.task === 'classification') {
    b.comment('Classification: the index of the largest score of the last step (the first on ties); info.classLabels[i] is its label.');
    b.block('function classIndex() {', () => {
      b.line('var k, best = 0;');
      b.line(`for (k = 1; k < ${NO}; k++) if (Y[k] > Y[best]) best = k;`);
      b.line('return best;');
    });
    b.line('');
  }
}

/** checksum(), info and the returned API (with weights in flash, info read from the file when asked). */
function emitApi(
  b: CodeBuilder,
  q: QuantizedModel,
  plan: ModulePlan,
  info: ReturnType<typeof moduleInfo>,
  beforeReturn?: () => void,
): void {
  const { flash, layout, stacked, windowed } = plan;
  emitChecksum(b, q, Boolean(flash), plan);
  if (!flash) b.line(`var info = ${jsonText(info)};`);
  if (plan.native.kind === 'native' && !flash) b.line('info.native = NATIVE; // the step that runs here');
  beforeReturn?.();
  const members = apiMembers(q)
    .filter((k) => !(flash && k === 'info'))
    .map((k) => (k === 'state' ? `state: { h: ${stacked || windowed ? 'HS' : 'H'}, c: C, gates: G }` : `${k}: ${k}`));
  if (!flash) b.line(`return { ${members.join(', ')} };`);
  else {
    const entry = layout!.entries.find((e) => e.name === 'INFO')!;
    b.line(`var api = { ${members.join(', ')} };`);
    b.comment('info: parsed from the Storage file when asked for (each access gives a fresh object)');
    const read = `JSON.parse(S.read(${jsString(flash.file)}, ${entry.offset}, ${entry.length}))`;
    // With the native step: info.native, the step that runs here, set on each fresh object.
    const get = plan.native.kind === 'native' ? `var i = ${read}; i.native = NATIVE; return i;` : `return ${read};`;
    b.line(`Object.defineProperty(api, "info", { get: function () { ${get} }, enumerable: true });`);
    b.line('return api;');
  }
}

/**
 * checksum(): CRC-32 (IEEE, as zlib and E.CRC32) of the model's constant data
 * as the device holds it, for checking an upload (modelDataCrc32 on the host).
 * Weights in RAM: the little-endian bytes of constantArrays then affineArrays,
 * in file order (holding a native context: its constant bytes, then the rest);
 * weights in flash: the Storage file. Allocates a table: not for
 * the step loop.
 */
function emitChecksum(b: CodeBuilder, q: QuantizedModel, flash: boolean, plan: ModulePlan): void {
  b.comment(
    plan.native.kind === 'native'
      ? "checksum(): CRC-32 of the constant data: the native context's constant bytes, then the arrays outside it (the same on either path)"
      : "checksum(): CRC-32 of the constant data as held here (the Storage file, or every data array's bytes in file order)",
  );
  if (flash) {
    b.block('function checksum() {', () => b.line('return E.CRC32(WF) >>> 0;'));
    b.line('');
    return;
  }
  // Holding a context: its constant bytes in place of the arrays they hold, so both paths give one value (codegen/checksum.ts).
  const native = plan.native;
  const names =
    native.kind === 'native'
      ? [
          ...nativeConstantRegions(native.plan).map(([off, length]) => `new Uint8Array(CB, ${off}, ${length})`),
          ...[...constantArrays(q).filter((a) => a.name === 'EMB'), ...affineArrays(q)].map((a) => a.name),
        ]
      : [...constantArrays(q), ...affineArrays(q)].flatMap((a) => dataNames(plan, a.name));
  b.snippet(es5Lines('crc32', { words: { ARRAYS: `[${names.join(', ')}]` } }));
  b.line('');
}

/**
 * Embedding input (NUMERICS.md §3a): step([id]) copies the table row of the
 * token into XQ and steps; the padding token is not a step; an id that is not
 * an integer in [0, V) reads as the unknown token.
 */
function emitTokenStep(b: CodeBuilder, q: QuantizedModel, NI: number, NO: number): void {
  const e = q.embedding!;
  b.comment(`Token ids in (x[0]), real outputs out. ${PADDING_TOKEN} is padding: no step, the outputs stay those of the last step.`);
  b.comment(`An id that is not an integer in 0..${e.vocabularySize - 1} reads as the unknown token ${e.unknownToken}.`);
  b.block('function step(x) {', () => {
    b.line('var i, o, id;');
    emitArgumentCheck(b, 'x', 'step(x)', 1, 'token id');
    b.line('id = x[0];');
    emitNumberOr(b, 'id', 'NaN');
    b.block(`if (id !== ${PADDING_TOKEN}) {`, () => {
      b.line(`if (Math.floor(id) !== id || id < 0 || id >= ${e.vocabularySize}) id = ${e.unknownToken};`);
      b.line(`o = id * ${NI};`);
      b.line(`for (i = 0; i < ${NI}; i++) XQ[i] = EMB[o + i];`);
      b.line('stepQ(XQ);');
    });
    b.line(`for (i = 0; i < ${NO}; i++) YF[i] = Y[i] * OG[i] + OO[i];`);
    b.line('return YF;');
  });
}

/** Y[k] = Σ D[k,j] h[j] + DB[k] over the `width` values of `h`, row by row in the dialect's form. */
function emitHead(b: CodeBuilder, outputs: number, width: number, h: string, dialect: Dialect): void {
  b.comment('head: Y[k] = Σ D[k,j] h[j] + DB[k]');
  b.block(`for (k = 0; k < ${outputs}; k++) {`, () => dialect.headRow(b, width, h));
}

/**
 * One-to-many (NUMERICS.md §8a): forecast(n, out) writes n forecasts into
 * `out`: the output of the last step, then n - 1 more steps, each fed the
 * last readings with the forecasts in place of their features; the state is
 * restored, so streaming continues as before. No allocation.
 */
function emitForecast(b: CodeBuilder, q: QuantizedModel, plan: ModulePlan): void {
  const { NI, NO } = plan;
  const feedback = feedbackFeatures(q);
  // With the native step, h lives in the context, not in V: it is backed up too.
  const nativeH = plan.native.kind === 'native' ? [plan.stateH] : [];
  const stateArrays = ['V', ...nativeH, 'C', 'G', 'Y', 'XL'];
  b.comment('one-to-many: state backups and the fed-back readings, allocated once');
  b.line(`var XL = new Float64Array(${NI}), FX = new Float64Array(${NI}); // last readings given to step(); readings of a forecast step`);
  b.line(
    `var BV = new Int8Array(V.length), ${nativeH.map((h) => `BH = new Int8Array(${h}.length), `).join('')}BC = new Int16Array(C.length), BG = new Int16Array(G.length), BY = new Int32Array(${NO}), BX = new Float64Array(${NI});`,
  );
  // clockwork layers: their counters are state too
  const clocks = plan.plans.filter((p) => hasClock(p.layer.cell)).map((p) => p.n.CK);
  if (clocks.length > 0) b.line(`var BK = new Int32Array(${clocks.length}); // clock counters`);
  b.line(`for (var fi = 0; fi < ${NI}; fi++) XL[fi] = NaN;`);
  b.comment(
    `forecast(n, out): out[s*${NO} + k] = output k, s steps ahead; feedback: ${feedback.map((f, k) => `output ${k} -> ${q.featureNames[f]}`).join(', ')}`,
  );
  b.block('function forecast(n, out) {', () => {
    b.line(`var i, s${q.targetMode === 'change' ? ', v' : ''};`);
    const backups = ['BV', ...nativeH.map(() => 'BH'), 'BC', 'BG', 'BY', 'BX'];
    stateArrays.forEach((a, i) => b.line(`for (i = 0; i < ${a}.length; i++) ${backups[i]}[i] = ${a}[i];`));
    clocks.forEach((ck, i) => b.line(`BK[${i}] = ${ck};`));
    b.line(`for (i = 0; i < ${NI}; i++) FX[i] = XL[i];`);
    b.comment('the first forecast is the output of the last step; each later one steps on the readings with the forecasts fed back');
    b.line(`for (i = 0; i < ${NO}; i++) YF[i] = Y[i] * OG[i] + OO[i];`);
    if (q.targetMode === 'change') {
      q.baseFeatures.forEach((f, k) => b.line(`v = XL[${f}]; YF[${k}] = (v - v === 0 ? v : NaN) + YF[${k}];`));
    }
    b.block('for (s = 0; s < n; s++) {', () => {
      b.line('if (s > 0) step(FX);');
      b.line(`for (i = 0; i < ${NO}; i++) out[s * ${NO} + i] = YF[i];`);
      feedback.forEach((f, k) => b.line(`FX[${f}] = YF[${k}];`));
    });
    stateArrays.forEach((a, i) => b.line(`for (i = 0; i < ${a}.length; i++) ${a}[i] = ${backups[i]}[i];`));
    clocks.forEach((ck, i) => b.line(`${ck} = BK[${i}];`));
    b.line('return out;');
  });
  b.line('');
}
