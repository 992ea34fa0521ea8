/**
 * The code a user would otherwise write: a straightforward float LSTM step in
 * ES5 with Float32Array weights and Math.exp-based activations. The benchmark
 * measures the generated int8 code against it on each engine.
 */
import type { FloatModel } from '../runtime/model.ts';

const list = (a: ArrayLike<number>) => Array.from(a, (v) => +v.toPrecision(7)).join(',');

export function floatBaselineSource(model: FloatModel, globalName: string): string {
  if (model.recurrent.cell === 'gru') return floatGruSource(model, globalName);
  if (model.recurrent.cell !== 'lstm') throw new Error(`no float baseline for ${model.recurrent.cell}`);
  const { inputSize: I, units: U, kernel, recurrentKernel, bias } = model.recurrent;
  const O = model.head.outputSize;
  return `
var ${globalName} = (function () {
  var I = ${I}, U = ${U}, O = ${O}, G4 = ${4 * U};
  var K = new Float32Array([${list(kernel)}]);
  var R = new Float32Array([${list(recurrentKernel)}]);
  var B = new Float32Array([${list(bias)}]);
  var D = new Float32Array([${list(model.head.kernel)}]);
  var DB = new Float32Array([${list(model.head.bias)}]);
  var h = new Float32Array(U), c = new Float32Array(U), z = new Float32Array(G4), y = new Float32Array(O);
  function sigmoid(v) { return 1 / (1 + Math.exp(-v)); }
  function tanh(v) { var e = Math.exp(2 * v); return (e - 1) / (e + 1); }
  function step(x) {
    var col, i, j, u, s;
    for (col = 0; col < G4; col++) {
      s = B[col];
      for (i = 0; i < I; i++) s += K[i * G4 + col] * x[i];
      for (j = 0; j < U; j++) s += R[j * G4 + col] * h[j];
      z[col] = s;
    }
    for (u = 0; u < U; u++) {
      c[u] = sigmoid(z[U + u]) * c[u] + sigmoid(z[u]) * tanh(z[2 * U + u]);
      h[u] = sigmoid(z[3 * U + u]) * tanh(c[u]);
    }
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

/** The same for a GRU (reset before the recurrent product, as TensorFlow.js). */
function floatGruSource(model: FloatModel, globalName: string): string {
  const { inputSize: I, units: U, kernel, recurrentKernel, bias } = model.recurrent;
  const O = model.head.outputSize;
  return `
var ${globalName} = (function () {
  var I = ${I}, U = ${U}, O = ${O}, G3 = ${3 * U};
  var K = new Float32Array([${list(kernel)}]);
  var R = new Float32Array([${list(recurrentKernel)}]);
  var B = new Float32Array([${list(bias)}]);
  var D = new Float32Array([${list(model.head.kernel)}]);
  var DB = new Float32Array([${list(model.head.bias)}]);
  var h = new Float32Array(U), rh = new Float32Array(U), z = new Float32Array(G3), y = new Float32Array(O);
  function sigmoid(v) { return 1 / (1 + Math.exp(-v)); }
  function tanh(v) { var e = Math.exp(2 * v); return (e - 1) / (e + 1); }
  function step(x) {
    var col, i, j, u, s, zu;
    for (col = 0; col < 2 * U; col++) {
      s = B[col];
      for (i = 0; i < I; i++) s += K[i * G3 + col] * x[i];
      for (j = 0; j < U; j++) s += R[j * G3 + col] * h[j];
      z[col] = sigmoid(s);
    }
    for (u = 0; u < U; u++) rh[u] = z[U + u] * h[u];
    for (u = 0; u < U; u++) {
      col = 2 * U + u;
      s = B[col];
      for (i = 0; i < I; i++) s += K[i * G3 + col] * x[i];
      for (j = 0; j < U; j++) s += R[j * G3 + col] * rh[j];
      z[col] = tanh(s);
    }
    for (u = 0; u < U; u++) { zu = z[u]; h[u] = zu * h[u] + (1 - zu) * z[2 * U + u]; }
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

/**
 * The floor: the dot products alone, as the generated code issues them.
 * On Espruino, one E.convolve per gate row and head row over cached row views;
 * elsewhere, the same integer multiply-accumulate loops without anything else.
 */
export function floorSource(inputSize: number, units: number, gates: number, outputs: number, globalName: string): string {
  const NV = inputSize + units;
  const rows = gates * units;
  return `
var ${globalName} = (function () {
  var W = new Int8Array(${rows * NV}), D = new Int8Array(${outputs * units}), V = new Int8Array(${NV}), i;
  for (i = 0; i < W.length; i++) W[i] = (i * 37) % 255 - 127;
  for (i = 0; i < D.length; i++) D[i] = (i * 53) % 255 - 127;
  for (i = 0; i < V.length; i++) V[i] = (i * 29) % 255 - 127;
  var H = new Int8Array(V.buffer, ${inputSize}, ${units});
  var native = typeof E !== "undefined" && typeof E.convolve === "function";
  var RW = [], RD = [];
  if (native) {
    for (i = 0; i < ${rows}; i++) RW.push(new Int8Array(W.buffer, i * ${NV}, ${NV}));
    for (i = 0; i < ${outputs}; i++) RD.push(new Int8Array(D.buffer, i * ${units}, ${units}));
  }
  var sink = 0;
  function step() {
    var r, k, acc, w;
    if (native) {
      for (r = 0; r < ${rows}; r++) sink = E.convolve(RW[r], V, 0);
      for (r = 0; r < ${outputs}; r++) sink = E.convolve(RD[r], H, 0);
    } else {
      for (r = 0; r < ${rows}; r++) { acc = 0; w = r * ${NV}; for (k = 0; k < ${NV}; k++) acc += W[w + k] * V[k]; sink = acc; }
      for (r = 0; r < ${outputs}; r++) { acc = 0; w = r * ${units}; for (k = 0; k < ${units}; k++) acc += D[w + k] * H[k]; sink = acc; }
    }
    return sink;
  }
  return { step: step };
})();
`;
}
