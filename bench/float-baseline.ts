/**
 * The code a user would otherwise write: a straightforward float LSTM or GRU
 * step in ES5 with Float32Array weights and Math.exp-based activations. The
 * benchmark measures the generated int8 code against it on each engine.
 */
import { gateCount, type FloatModel } from '../core/model.ts';
import { PRETOKENISED } from '../codegen/dialect-espruino.ts';

const list = (a: ArrayLike<number>) => Array.from(a, (v) => +v.toPrecision(7)).join(',');

/**
 * How the baseline holds its weights: 'literal', an array literal in a Float32Array (what a user
 * would write); 'espruino-chunks', the float32 bytes in base64 chunks of at most CHUNK_FLOATS values,
 * each decoded into the Float32Array by its own statement (Espruino's atob and E.toArrayBuffer), so
 * no more than one chunk's text is in RAM at once where the program runs from flash. The step is the same.
 */
export type FloatWeights = 'literal' | 'espruino-chunks';
const CHUNK_FLOATS = 1024;

/** `var name = new Float32Array(...)` holding `values` as `weights` says. */
function declare(name: string, values: ArrayLike<number>, weights: FloatWeights): string {
  if (weights === 'literal') return `var ${name} = new Float32Array([${list(values)}]);`;
  const floats = Float32Array.from(values);
  const lines = [`var ${name} = new Float32Array(${floats.length});`];
  for (let at = 0; at < floats.length; at += CHUNK_FLOATS) {
    const chunk = floats.subarray(at, at + CHUNK_FLOATS);
    const b64 = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('base64');
    lines.push(`${name}.set(new Float32Array(E.toArrayBuffer(atob("${b64}"))), ${at});`);
  }
  return lines.join('\n  ');
}

/** Shared by both cells: weights, buffers, activations, the head; `cellStep` is the body that updates h from x. */
function baseline(model: FloatModel, globalName: string, cellStep: string, weights: FloatWeights): string {
  if (model.layers.length !== 1) throw new Error('the float baseline is written for one recurrent layer');
  const { inputSize: I, units: U, kernel, recurrentKernel, bias, cell } = model.layers[0]!;
  const O = model.head.outputSize;
  return `
var ${globalName} = (function () {
  var I = ${I}, U = ${U}, O = ${O}, GU = ${gateCount(cell) * U};
  ${declare('K', kernel, weights)}
  ${declare('R', recurrentKernel, weights)}
  ${declare('B', bias, weights)}
  ${declare('D', model.head.kernel, weights)}
  ${declare('DB', model.head.bias, weights)}
  var h = new Float32Array(U), c = new Float32Array(U), rh = new Float32Array(U), z = new Float32Array(GU), y = new Float32Array(O);
  function sigmoid(v) { return 1 / (1 + Math.exp(-v)); }
  function tanh(v) { var e = Math.exp(2 * v); return (e - 1) / (e + 1); }
  function step(x) {
    var col, i, j, u, s, zu;
${cellStep}
    for (i = 0; i < O; i++) {
      s = DB[i];
      for (j = 0; j < U; j++) s += D[j * O + i] * h[j];
      y[i] = s;
    }
    return y;
  }
  return { step: step };
})();
`;
}

export function floatBaselineSource(model: FloatModel, globalName: string, weights: FloatWeights = 'literal'): string {
  if (model.layers[0]!.cell === 'lstm') {
    return baseline(
      model,
      globalName,
      `    for (col = 0; col < GU; col++) {
      s = B[col];
      for (i = 0; i < I; i++) s += K[i * GU + col] * x[i];
      for (j = 0; j < U; j++) s += R[j * GU + col] * h[j];
      z[col] = s;
    }
    for (u = 0; u < U; u++) {
      c[u] = sigmoid(z[U + u]) * c[u] + sigmoid(z[u]) * tanh(z[2 * U + u]);
      h[u] = sigmoid(z[3 * U + u]) * tanh(c[u]);
    }`,
      weights,
    );
  }
  if (model.layers[0]!.cell === 'gru') {
    // GRU, reset before the recurrent product (as TensorFlow.js).
    return baseline(
      model,
      globalName,
      `    for (col = 0; col < 2 * U; col++) {
      s = B[col];
      for (i = 0; i < I; i++) s += K[i * GU + col] * x[i];
      for (j = 0; j < U; j++) s += R[j * GU + col] * h[j];
      z[col] = sigmoid(s);
    }
    for (u = 0; u < U; u++) rh[u] = z[U + u] * h[u];
    for (col = 2 * U; col < GU; col++) {
      s = B[col];
      for (i = 0; i < I; i++) s += K[i * GU + col] * x[i];
      for (j = 0; j < U; j++) s += R[j * GU + col] * rh[j];
      z[col] = tanh(s);
    }
    for (u = 0; u < U; u++) { zu = z[u]; h[u] = zu * h[u] + (1 - zu) * z[2 * U + u]; }`,
      weights,
    );
  }
  throw new Error(`no float baseline for ${model.layers[0]!.cell}`);
}

/**
 * The floor: the dot products alone, as the generated code issues them.
 * On Espruino, one E.convolve per gate row over the cached row views, unit by
 * unit (RU[u] holds the rows of unit u, as in the generated module), and one
 * per head row; elsewhere, the same integer multiply-accumulate loops without
 * anything else (over the same locals as the generated es5 code). Pretokenised on
 * Espruino as the generated module is (PRETOKENISED): the fastest way to issue its calls.
 *
 * `cellBound`: the floor plus the one thing every LSTM step must also do per unit,
 * however its gates are computed: combine them into c and h, c = f·c + i·g and
 * h = o·tanh(c), as the generated code's two cell statements do, but fed with the raw
 * sums and with nothing else: no rescale, no gate activation, no saturation, no gate store.
 * No native call multiplies two vectors element by element, so no LSTM step on
 * Espruino can take less than this; its ratio to the floor bounds what any code can reach.
 */
export function floorSource(
  inputSize: number,
  units: number,
  gates: number,
  outputs: number,
  globalName: string,
  cellBound = false,
): string {
  if (cellBound && gates !== 4) throw new Error('the cell bound is written for the LSTM (4 gates)');
  const NV = inputSize + units;
  const rows = gates * units;
  const calls = cellBound
    ? 'ig = cv(q[0], v); fg = cv(q[1], v); cg = cv(q[2], v); og = cv(q[3], v);\n' +
      '        cc[u] = c = ((fg * cc[u] + 16384) >> 15) + ((ig * cg + 32768) >> 16);\n' +
      '        hn[u] = (og * tt[((c + 2) >> 6) + 1024] + 4194304) >> 23;'
    : Array.from({ length: gates }, (_, g) => `sink = cv(q[${g}], v);`).join(' ');
  return `
var ${globalName} = ${PRETOKENISED.open}
  var W = new Int8Array(${rows * NV}), D = new Int8Array(${outputs * units}), V = new Int8Array(${NV}), i;
  for (i = 0; i < W.length; i++) W[i] = (i * 37) % 255 - 127;
  for (i = 0; i < D.length; i++) D[i] = (i * 53) % 255 - 127;
  for (i = 0; i < V.length; i++) V[i] = (i * 29) % 255 - 127;
  var H = new Int8Array(V.buffer, ${inputSize}, ${units});
  var C = new Int16Array(${units}), HN = new Int8Array(${units}), TT = new Int16Array(2048);
  var native = typeof E !== "undefined" && typeof E.convolve === "function";
  var RU = [], RD = [], g, views;
  if (native) {
    for (i = 0; i < ${units}; i++) {
      views = [];
      for (g = 0; g < ${gates}; g++) views.push(new Int8Array(W.buffer, (g * ${units} + i) * ${NV}, ${NV}));
      RU.push(views);
    }
    for (i = 0; i < ${outputs}; i++) RD.push(new Int8Array(D.buffer, i * ${units}, ${units}));
  }
  function step() {
    var sink, cv, q, v, u, r, k, acc, w, wq, ig, fg, cg, og, c, cc, hn, tt;
    v = V; cc = C; hn = HN; tt = TT;
    if (native) {
      cv = E.convolve;
      for (u = 0; u < ${units}; u++) {
        q = RU[u];
        ${calls}
      }
      for (r = 0; r < ${outputs}; r++) sink = cv(RD[r], H, 0);
    } else {
      wq = W;
      for (r = 0; r < ${rows}; r++) { acc = 0; w = r * ${NV}; for (k = 0; k < ${NV}; k++) acc += wq[w + k] * v[k]; sink = acc; }
      for (r = 0; r < ${outputs}; r++) { acc = 0; w = r * ${units}; for (k = 0; k < ${units}; k++) acc += D[w + k] * H[k]; sink = acc; }
    }
    return sink;
  }
  ${PRETOKENISED.restore}
  return { step: step };
${PRETOKENISED.close};
`;
}
