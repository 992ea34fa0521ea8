/**
 * Whole-sequence recurrent layers for training: the forward pass and
 * backpropagation through time, in WebAssembly SIMD. AssemblyScript source,
 * built by `npm run build:kernels` into recurrent.wasm, which is committed;
 * test/trainer/fused-recurrent.test.ts checks that the committed file is the
 * build of this source.
 *
 * Memory is imported; every pointer is a byte offset of a row-major f32
 * array and every stride counts elements. Time-major layouts: x [T][B][F],
 * gates [T][B][G·H], states [T][B][H]. Initial states are zero. The cells are
 * those of tfjs-layers and trainer/cells.ts, gates in the order of core/model.ts
 * (the kind numbers are KIND in trainer/fused-recurrent.ts):
 *   LSTM (kind 0)  i, f, g, o:  z = x W + h U + b
 *                  c' = σ(z_f) c + σ(z_i) tanh(z_g);  h' = σ(z_o) tanh(c')
 *   GRU  (kind 1)  z, r, h~, the reset applied before the recurrent product:
 *                  z = σ(x W_z + h U_z + b_z);  r = σ(x W_r + h U_r + b_r)
 *                  n = tanh(x W_h + (r h) U_h + b_h);  h' = z h + (1 − z) n
 *   RNN  (kind 2)  h' = tanh(x W + h U + b)
 *   peephole LSTM (kind 3)  i, f, g, o; peephole weights p [3][H] (i, f, o):
 *                  i = σ(z_i + p_i c);  f = σ(z_f + p_f c);  c' = f c + i tanh(z_g)
 *                  o = σ(z_o + p_o c');  h' = o tanh(c')
 *   CIFG LSTM (kind 4)  f, g, o:  c' = σ(z_f) c + (1 − σ(z_f)) tanh(z_g);  h' = σ(z_o) tanh(c')
 *   GRU reset-after (kind 5)  z, r, h~, input bias b and recurrent bias b':
 *                  xz = x W + b;  hz = h U + b';  z = σ(xz_z + hz_z);  r = σ(xz_r + hz_r)
 *                  n = tanh(xz_h + r hz_h);  h' = z h + (1 − z) n
 */

const LSTM = 0;
const GRU = 1;
const PEEPHOLE = 3;
const CIFG = 4;
const GRU_RESET_AFTER = 5;

function gateCount(kind: i32): i32 {
  return kind == LSTM || kind == PEEPHOLE ? 4 : kind == GRU || kind == CIFG || kind == GRU_RESET_AFTER ? 3 : 1;
}

// C [M][N] += A B:  A(m, k) = a[m·am + k·ak];  B(k, n) = b[k·bRow + n];  C(m, n) = c[m·cRow + n].
// Blocks of 4 rows × 8 columns in eight f32x4 accumulators; then the rows
// left over one at a time, then the columns left over (N mod 8) one at a time.
export function gemm(a: usize, am: i32, ak: i32, b: usize, bRow: i32, c: usize, cRow: i32, M: i32, K: i32, N: i32): void {
  const aM = <usize>am << 2;
  const aK = <usize>ak << 2;
  const bK = <usize>bRow << 2;
  const cM = <usize>cRow << 2;
  const N8 = N & ~7;
  let m = 0;
  for (; m + 4 <= M; m += 4) {
    const a0 = a + <usize>m * aM;
    const a1 = a0 + aM;
    const a2 = a1 + aM;
    const a3 = a2 + aM;
    const c0 = c + <usize>m * cM;
    const c1 = c0 + cM;
    const c2 = c1 + cM;
    const c3 = c2 + cM;
    for (let n = 0; n < N8; n += 8) {
      const o = <usize>n << 2;
      let s00 = v128.load(c0 + o), s01 = v128.load(c0 + o, 16);
      let s10 = v128.load(c1 + o), s11 = v128.load(c1 + o, 16);
      let s20 = v128.load(c2 + o), s21 = v128.load(c2 + o, 16);
      let s30 = v128.load(c3 + o), s31 = v128.load(c3 + o, 16);
      let bp = b + o;
      let ka: usize = 0;
      for (let k = 0; k < K; k++) {
        const b0 = v128.load(bp);
        const b1 = v128.load(bp, 16);
        const x0 = f32x4.splat(load<f32>(a0 + ka));
        const x1 = f32x4.splat(load<f32>(a1 + ka));
        const x2 = f32x4.splat(load<f32>(a2 + ka));
        const x3 = f32x4.splat(load<f32>(a3 + ka));
        s00 = f32x4.add(s00, f32x4.mul(x0, b0));
        s01 = f32x4.add(s01, f32x4.mul(x0, b1));
        s10 = f32x4.add(s10, f32x4.mul(x1, b0));
        s11 = f32x4.add(s11, f32x4.mul(x1, b1));
        s20 = f32x4.add(s20, f32x4.mul(x2, b0));
        s21 = f32x4.add(s21, f32x4.mul(x2, b1));
        s30 = f32x4.add(s30, f32x4.mul(x3, b0));
        s31 = f32x4.add(s31, f32x4.mul(x3, b1));
        bp += bK;
        ka += aK;
      }
      v128.store(c0 + o, s00);
      v128.store(c0 + o, s01, 16);
      v128.store(c1 + o, s10);
      v128.store(c1 + o, s11, 16);
      v128.store(c2 + o, s20);
      v128.store(c2 + o, s21, 16);
      v128.store(c3 + o, s30);
      v128.store(c3 + o, s31, 16);
    }
  }
  for (; m < M; m++) {
    const a0 = a + <usize>m * aM;
    const c0 = c + <usize>m * cM;
    for (let n = 0; n < N8; n += 8) {
      const o = <usize>n << 2;
      let s0 = v128.load(c0 + o);
      let s1 = v128.load(c0 + o, 16);
      let bp = b + o;
      let ka: usize = 0;
      for (let k = 0; k < K; k++) {
        const x0 = f32x4.splat(load<f32>(a0 + ka));
        s0 = f32x4.add(s0, f32x4.mul(x0, v128.load(bp)));
        s1 = f32x4.add(s1, f32x4.mul(x0, v128.load(bp, 16)));
        bp += bK;
        ka += aK;
      }
      v128.store(c0 + o, s0);
      v128.store(c0 + o, s1, 16);
    }
  }
  if (N8 < N) {
    for (let r = 0; r < M; r++) {
      const a0 = a + <usize>r * aM;
      const c0 = c + <usize>r * cM;
      for (let n = N8; n < N; n++) {
        const o = <usize>n << 2;
        let s = load<f32>(c0 + o);
        let bp = b + o;
        let ka: usize = 0;
        for (let k = 0; k < K; k++) {
          s += load<f32>(a0 + ka) * load<f32>(bp);
          bp += bK;
          ka += aK;
        }
        store<f32>(c0 + o, s);
      }
    }
  }
}

// dst [cols][rows] = src(r, k) for src(r, k) = src[r·srcRow + k]
function transpose(src: usize, srcRow: i32, dst: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < cols; k++) {
      store<f32>(dst + ((<usize>k * rows + r) << 2), load<f32>(src + ((<usize>r * srcRow + k) << 2)));
    }
  }
}

// σ(x) = 1 / (1 + e^−x)
// @ts-ignore: decorator
@inline function sigmoid(x: f32): f32 {
  return <f32>1 / (<f32>1 + Mathf.exp(-x));
}

// @ts-ignore: decorator
@inline function at(p: usize, i: i32): usize {
  return p + (<usize>i << 2);
}

/**
 * Forward over T steps.
 * - gates [T][B][G·H] receives the activated gates: LSTM i, f, g, o; GRU z, r, n; RNN h.
 * - hs [T][B][H] receives h; the LSTMs: cells [T][B][H] receives c; GRU
 *   reset-after: cells receives hz_h (the candidate's recurrent part).
 * - extra: the peephole weights [3][H], or the recurrent bias b' [3H].
 * - recMask (0: none) [B][H]: recurrent dropout of the LSTM and the RNN, as
 *   tfjs-layers applies it: the recurrent product reads h_{t-1} ⊙ recMask.
 * - stepMask (0: none) [T][B]: 0 where a step is padding; there h and c keep
 *   their previous values (tfjs' masking).
 * - scratch holds 4·B·H floats.
 */
export function forward(
  kind: i32, x: usize, W: usize, U: usize, bias: usize, extra: usize, gates: usize, hs: usize, cells: usize, scratch: usize,
  T: i32, B: i32, F: i32, H: i32, recMask: usize, stepMask: usize,
): void {
  const G = gateCount(kind);
  const GH = G * H;
  const rows = T * B;
  // gates[t][b] = bias + x[t][b] W, every step at once
  const rowBytes = <usize>GH << 2;
  for (let r = 0; r < rows; r++) memory.copy(gates + <usize>r * rowBytes, bias, rowBytes);
  gemm(x, F, 1, W, GH, gates, GH, rows, F, GH);
  const BH = B * H;
  const hm = at(scratch, 3 * BH); // [B][H]: h_{t-1} ⊙ recMask
  const plainRecurrence = kind != GRU && kind != GRU_RESET_AFTER;
  for (let t = 0; t < T; t++) {
    const z = gates + <usize>t * B * rowBytes;
    const h = at(hs, t * BH);
    const hPrev = at(hs, (t - 1) * BH);
    // z += h_{t-1} U (⊙ recMask), for every cell but the two GRUs, which split U
    if (plainRecurrence && t > 0) gemm(recurrentInput(hPrev, recMask, hm, BH), H, 1, U, GH, z, GH, B, H, GH);
    if (kind == LSTM) {
      const c = at(cells, t * BH);
      const cPrev = at(cells, (t - 1) * BH);
      for (let r = 0; r < B; r++) {
        const zr = at(z, r * GH);
        for (let j = 0; j < H; j++) {
          const i = sigmoid(load<f32>(at(zr, j)));
          const f = sigmoid(load<f32>(at(zr, H + j)));
          const g = Mathf.tanh(load<f32>(at(zr, 2 * H + j)));
          const o = sigmoid(load<f32>(at(zr, 3 * H + j)));
          store<f32>(at(zr, j), i);
          store<f32>(at(zr, H + j), f);
          store<f32>(at(zr, 2 * H + j), g);
          store<f32>(at(zr, 3 * H + j), o);
          const e = r * H + j;
          const cp: f32 = t > 0 ? load<f32>(at(cPrev, e)) : 0;
          // c' = f c + i g;  h' = o tanh(c')
          const cn = f * cp + i * g;
          store<f32>(at(c, e), cn);
          store<f32>(at(h, e), o * Mathf.tanh(cn));
        }
      }
    } else if (kind == GRU) {
      // z, r pre-activations += h_{t-1} U[:, 0:2H]
      if (t > 0) gemm(hPrev, H, 1, U, GH, z, GH, B, H, 2 * H);
      const rh = scratch; // [B][H]: r h_{t-1}
      const uh = at(scratch, BH); // [B][H]: (r h_{t-1}) U_h
      for (let r = 0; r < B; r++) {
        const zr = at(z, r * GH);
        for (let j = 0; j < H; j++) {
          const zg = sigmoid(load<f32>(at(zr, j)));
          const rg = sigmoid(load<f32>(at(zr, H + j)));
          store<f32>(at(zr, j), zg);
          store<f32>(at(zr, H + j), rg);
          const e = r * H + j;
          store<f32>(at(rh, e), t > 0 ? rg * load<f32>(at(hPrev, e)) : 0);
        }
      }
      memory.fill(uh, 0, <usize>BH << 2);
      if (t > 0) gemm(rh, H, 1, at(U, 2 * H), GH, uh, H, B, H, H);
      for (let r = 0; r < B; r++) {
        const zr = at(z, r * GH);
        for (let j = 0; j < H; j++) {
          const e = r * H + j;
          const n = Mathf.tanh(load<f32>(at(zr, 2 * H + j)) + load<f32>(at(uh, e)));
          store<f32>(at(zr, 2 * H + j), n);
          const zg = load<f32>(at(zr, j));
          const hp: f32 = t > 0 ? load<f32>(at(hPrev, e)) : 0;
          // h' = z h + (1 − z) n
          store<f32>(at(h, e), zg * hp + (<f32>1 - zg) * n);
        }
      }
    } else if (kind == PEEPHOLE || kind == CIFG) {
      const c = at(cells, t * BH);
      const cPrev = at(cells, (t - 1) * BH);
      for (let r = 0; r < B; r++) {
        const zr = at(z, r * GH);
        for (let j = 0; j < H; j++) {
          const e = r * H + j;
          const cp: f32 = t > 0 ? load<f32>(at(cPrev, e)) : 0;
          if (kind == PEEPHOLE) {
            const i = sigmoid(load<f32>(at(zr, j)) + load<f32>(at(extra, j)) * cp);
            const f = sigmoid(load<f32>(at(zr, H + j)) + load<f32>(at(extra, H + j)) * cp);
            const g = Mathf.tanh(load<f32>(at(zr, 2 * H + j)));
            const cn = f * cp + i * g;
            const o = sigmoid(load<f32>(at(zr, 3 * H + j)) + load<f32>(at(extra, 2 * H + j)) * cn);
            store<f32>(at(zr, j), i);
            store<f32>(at(zr, H + j), f);
            store<f32>(at(zr, 2 * H + j), g);
            store<f32>(at(zr, 3 * H + j), o);
            store<f32>(at(c, e), cn);
            store<f32>(at(h, e), o * Mathf.tanh(cn));
          } else {
            const f = sigmoid(load<f32>(at(zr, j)));
            const g = Mathf.tanh(load<f32>(at(zr, H + j)));
            const o = sigmoid(load<f32>(at(zr, 2 * H + j)));
            store<f32>(at(zr, j), f);
            store<f32>(at(zr, H + j), g);
            store<f32>(at(zr, 2 * H + j), o);
            // c' = f c + (1 − f) g
            const cn = f * cp + (<f32>1 - f) * g;
            store<f32>(at(c, e), cn);
            store<f32>(at(h, e), o * Mathf.tanh(cn));
          }
        }
      }
    } else if (kind == GRU_RESET_AFTER) {
      // hz = b' + h_{t-1} U  [B][3H]
      const hz = scratch;
      const rowH = <usize>GH << 2;
      for (let r = 0; r < B; r++) memory.copy(hz + <usize>r * rowH, extra, rowH);
      if (t > 0) gemm(hPrev, H, 1, U, GH, hz, GH, B, H, GH);
      const hzh = at(cells, t * BH);
      for (let r = 0; r < B; r++) {
        const zr = at(z, r * GH);
        const hr = at(hz, r * GH);
        for (let j = 0; j < H; j++) {
          const e = r * H + j;
          const zg = sigmoid(load<f32>(at(zr, j)) + load<f32>(at(hr, j)));
          const rg = sigmoid(load<f32>(at(zr, H + j)) + load<f32>(at(hr, H + j)));
          const hh = load<f32>(at(hr, 2 * H + j));
          const n = Mathf.tanh(load<f32>(at(zr, 2 * H + j)) + rg * hh);
          store<f32>(at(zr, j), zg);
          store<f32>(at(zr, H + j), rg);
          store<f32>(at(zr, 2 * H + j), n);
          store<f32>(at(hzh, e), hh);
          const hp: f32 = t > 0 ? load<f32>(at(hPrev, e)) : 0;
          store<f32>(at(h, e), zg * hp + (<f32>1 - zg) * n);
        }
      }
    } else {
      for (let r = 0; r < B; r++) {
        const zr = at(z, r * GH);
        for (let j = 0; j < H; j++) {
          const v = Mathf.tanh(load<f32>(at(zr, j)));
          store<f32>(at(zr, j), v);
          store<f32>(at(h, r * H + j), v);
        }
      }
    }
    if (stepMask != 0) holdPadding(kind, t, B, H, hs, cells, stepMask);
  }
}

// h_{t-1}, or h_{t-1} ⊙ recMask written to hm
function recurrentInput(hPrev: usize, recMask: usize, hm: usize, n: i32): usize {
  if (recMask == 0) return hPrev;
  for (let i = 0; i < n; i++) store<f32>(at(hm, i), load<f32>(at(hPrev, i)) * load<f32>(at(recMask, i)));
  return hm;
}

// a[i] *= m[i]
function scaleBy(a: usize, m: usize, n: i32): void {
  for (let i = 0; i < n; i++) store<f32>(at(a, i), load<f32>(at(a, i)) * load<f32>(at(m, i)));
}

// @ts-ignore: decorator
@inline function isPadding(stepMask: usize, t: i32, B: i32, r: i32): bool {
  return load<f32>(at(stepMask, t * B + r)) == 0;
}

// Padding steps keep h (and c) of the step before: zero at t = 0.
function holdPadding(kind: i32, t: i32, B: i32, H: i32, hs: usize, cells: usize, stepMask: usize): void {
  const BH = B * H;
  const carriesC = kind == LSTM || kind == PEEPHOLE || kind == CIFG;
  for (let r = 0; r < B; r++) {
    if (!isPadding(stepMask, t, B, r)) continue;
    const row = <usize>(r * H) << 2;
    const bytes = <usize>H << 2;
    if (t > 0) memory.copy(at(hs, t * BH) + row, at(hs, (t - 1) * BH) + row, bytes);
    else memory.fill(at(hs, t * BH) + row, 0, bytes);
    if (!carriesC) continue;
    if (t > 0) memory.copy(at(cells, t * BH) + row, at(cells, (t - 1) * BH) + row, bytes);
    else memory.fill(at(cells, t * BH) + row, 0, bytes);
  }
}

/**
 * Backpropagation through time, given dHs [T][B][H] (the loss gradient with
 * respect to every step's h; zero where a step's h is not an output).
 * - dz [T][B][G·H] receives the gradient of the gate pre-activations (of
 *   x W + b); GRU reset-after: dzh [T][B][G·H] receives that of h U + b'.
 * - dW, dU, db receive the weight gradients; dExtra those of the peephole
 *   weights or of b'; dX [T][B][F] the input gradient when dX is not 0.
 * - recMask, stepMask as forward(): a padding step passes the gradients of
 *   h and c to the step before unchanged, and its gates get none.
 * - scratch: Uᵀ (G·H·H floats), Wᵀ (G·H·F), then 4·B·H floats, then, for the
 *   GRU, T·B·H floats for r h; then 2·B·H + T·B·H floats.
 */
export function backward(
  kind: i32, x: usize, W: usize, U: usize, extra: usize, gates: usize, hs: usize, cells: usize, dHs: usize, dz: usize, dzh: usize,
  dW: usize, dU: usize, db: usize, dExtra: usize, dX: usize, scratch: usize, T: i32, B: i32, F: i32, H: i32, recMask: usize, stepMask: usize,
): void {
  const G = gateCount(kind);
  const GH = G * H;
  const BH = B * H;
  const Ut = scratch; // [G·H][H]
  const Wt = at(Ut, GH * H); // [G·H][F]
  const dh = at(Wt, GH * F); // [B][H]: the gradient reaching h_{t-1} through the recurrence
  const dc = at(dh, BH); // [B][H]: LSTM, the gradient reaching c_{t-1}
  const drh = at(dc, BH); // [B][H]: GRU, the gradient of r h_{t-1}
  const rhs = at(drh, BH); // [T][B][H]: GRU, r h_{t-1} of every step
  const carryH = at(rhs, kind == GRU ? T * BH : 0); // [B][H]: padding rows, ∂L/∂h_t passed on
  const carryC = at(carryH, BH); // [B][H]: padding rows, ∂L/∂c_t passed on
  const hmAll = at(carryC, BH); // [T][B][H]: h_t ⊙ recMask
  const plainRecurrence = kind != GRU && kind != GRU_RESET_AFTER;
  transpose(U, GH, Ut, H, GH);
  memory.fill(dh, 0, <usize>BH << 2);
  memory.fill(dc, 0, <usize>BH << 2);
  if (kind == PEEPHOLE || kind == GRU_RESET_AFTER) memory.fill(dExtra, 0, (<usize>(kind == PEEPHOLE ? 3 * H : GH)) << 2);
  for (let t = T - 1; t >= 0; t--) {
    const g = at(gates, t * B * GH);
    const d = at(dz, t * B * GH);
    const h = at(hs, t * BH);
    const hPrev = at(hs, (t - 1) * BH);
    const dOut = at(dHs, t * BH);
    if (stepMask != 0) {
      for (let r = 0; r < B; r++) {
        if (!isPadding(stepMask, t, B, r)) continue;
        for (let j = 0; j < H; j++) {
          const e = r * H + j;
          store<f32>(at(carryH, e), load<f32>(at(dOut, e)) + load<f32>(at(dh, e)));
          store<f32>(at(carryC, e), load<f32>(at(dc, e)));
        }
      }
    }
    if (kind == LSTM) {
      const c = at(cells, t * BH);
      const cPrev = at(cells, (t - 1) * BH);
      for (let r = 0; r < B; r++) {
        const gr = at(g, r * GH);
        const dr = at(d, r * GH);
        for (let j = 0; j < H; j++) {
          const e = r * H + j;
          const i = load<f32>(at(gr, j));
          const f = load<f32>(at(gr, H + j));
          const gg = load<f32>(at(gr, 2 * H + j));
          const o = load<f32>(at(gr, 3 * H + j));
          const tc = Mathf.tanh(load<f32>(at(c, e)));
          const cp: f32 = t > 0 ? load<f32>(at(cPrev, e)) : 0;
          // dh = ∂L/∂h_t;  dc = ∂L/∂c_t = dc_{t+1} f_{t+1} + dh o (1 − tanh² c)
          const dht = load<f32>(at(dOut, e)) + load<f32>(at(dh, e));
          const dct = load<f32>(at(dc, e)) + dht * o * (<f32>1 - tc * tc);
          store<f32>(at(dr, j), dct * gg * i * (<f32>1 - i));
          store<f32>(at(dr, H + j), dct * cp * f * (<f32>1 - f));
          store<f32>(at(dr, 2 * H + j), dct * i * (<f32>1 - gg * gg));
          store<f32>(at(dr, 3 * H + j), dht * tc * o * (<f32>1 - o));
          store<f32>(at(dc, e), dct * f);
        }
      }
    } else if (kind == GRU) {
      // the candidate: dn = dh (1 − z);  its pre-activation gradient dn (1 − n²) is both d(x W_h) and d((r h) U_h)
      for (let r = 0; r < B; r++) {
        const gr = at(g, r * GH);
        const dr = at(d, r * GH);
        for (let j = 0; j < H; j++) {
          const e = r * H + j;
          const zg = load<f32>(at(gr, j));
          const n = load<f32>(at(gr, 2 * H + j));
          const hp: f32 = t > 0 ? load<f32>(at(hPrev, e)) : 0;
          const dht = load<f32>(at(dOut, e)) + load<f32>(at(dh, e));
          store<f32>(at(dr, j), dht * (hp - n) * zg * (<f32>1 - zg));
          store<f32>(at(dr, 2 * H + j), dht * (<f32>1 - zg) * (<f32>1 - n * n));
          // the direct path h' = z h + ...
          store<f32>(at(dh, e), dht * zg);
        }
      }
      // d(r h) = dn_pre U_hᵀ
      memory.fill(drh, 0, <usize>BH << 2);
      if (t > 0) gemm(at(d, 2 * H), GH, 1, at(Ut, 2 * H * H), H, drh, H, B, H, H);
      const rh = at(rhs, t * BH);
      for (let r = 0; r < B; r++) {
        const gr = at(g, r * GH);
        const dr = at(d, r * GH);
        for (let j = 0; j < H; j++) {
          const e = r * H + j;
          const rg = load<f32>(at(gr, H + j));
          const hp: f32 = t > 0 ? load<f32>(at(hPrev, e)) : 0;
          const drhe = load<f32>(at(drh, e));
          store<f32>(at(dr, H + j), drhe * hp * rg * (<f32>1 - rg));
          store<f32>(at(rh, e), rg * hp);
          store<f32>(at(dh, e), load<f32>(at(dh, e)) + drhe * rg);
        }
      }
      // dh_{t-1} += dz_{z,r} U_{z,r}ᵀ
      if (t > 0) gemm(d, GH, 1, Ut, H, dh, H, B, 2 * H, H);
      else memory.fill(dh, 0, <usize>BH << 2);
    } else if (kind == PEEPHOLE || kind == CIFG) {
      const c = at(cells, t * BH);
      const cPrev = at(cells, (t - 1) * BH);
      for (let r = 0; r < B; r++) {
        const gr = at(g, r * GH);
        const dr = at(d, r * GH);
        for (let j = 0; j < H; j++) {
          const e = r * H + j;
          const cn = load<f32>(at(c, e));
          const tc = Mathf.tanh(cn);
          const cp: f32 = t > 0 ? load<f32>(at(cPrev, e)) : 0;
          const dht = load<f32>(at(dOut, e)) + load<f32>(at(dh, e));
          if (kind == PEEPHOLE) {
            const i = load<f32>(at(gr, j));
            const f = load<f32>(at(gr, H + j));
            const gg = load<f32>(at(gr, 2 * H + j));
            const o = load<f32>(at(gr, 3 * H + j));
            const pi = load<f32>(at(extra, j));
            const pf = load<f32>(at(extra, H + j));
            const po = load<f32>(at(extra, 2 * H + j));
            const dop = dht * tc * o * (<f32>1 - o);
            // c' also reaches h through o's peephole
            const dct = load<f32>(at(dc, e)) + dht * o * (<f32>1 - tc * tc) + dop * po;
            const dip = dct * gg * i * (<f32>1 - i);
            const dfp = dct * cp * f * (<f32>1 - f);
            store<f32>(at(dr, j), dip);
            store<f32>(at(dr, H + j), dfp);
            store<f32>(at(dr, 2 * H + j), dct * i * (<f32>1 - gg * gg));
            store<f32>(at(dr, 3 * H + j), dop);
            // c reaches the next step through f and through the i, f peepholes
            store<f32>(at(dc, e), dct * f + dip * pi + dfp * pf);
            store<f32>(at(dExtra, j), load<f32>(at(dExtra, j)) + dip * cp);
            store<f32>(at(dExtra, H + j), load<f32>(at(dExtra, H + j)) + dfp * cp);
            store<f32>(at(dExtra, 2 * H + j), load<f32>(at(dExtra, 2 * H + j)) + dop * cn);
          } else {
            const f = load<f32>(at(gr, j));
            const gg = load<f32>(at(gr, H + j));
            const o = load<f32>(at(gr, 2 * H + j));
            const dct = load<f32>(at(dc, e)) + dht * o * (<f32>1 - tc * tc);
            store<f32>(at(dr, j), dct * (cp - gg) * f * (<f32>1 - f));
            store<f32>(at(dr, H + j), dct * (<f32>1 - f) * (<f32>1 - gg * gg));
            store<f32>(at(dr, 2 * H + j), dht * tc * o * (<f32>1 - o));
            store<f32>(at(dc, e), dct * f);
          }
        }
      }
    } else if (kind == GRU_RESET_AFTER) {
      const dq = at(dzh, t * B * GH);
      const hzh = at(cells, t * BH);
      for (let r = 0; r < B; r++) {
        const gr = at(g, r * GH);
        const dr = at(d, r * GH);
        const qr = at(dq, r * GH);
        for (let j = 0; j < H; j++) {
          const e = r * H + j;
          const zg = load<f32>(at(gr, j));
          const rg = load<f32>(at(gr, H + j));
          const n = load<f32>(at(gr, 2 * H + j));
          const hp: f32 = t > 0 ? load<f32>(at(hPrev, e)) : 0;
          const dht = load<f32>(at(dOut, e)) + load<f32>(at(dh, e));
          const dzp = dht * (hp - n) * zg * (<f32>1 - zg);
          const dnp = dht * (<f32>1 - zg) * (<f32>1 - n * n);
          const drp = dnp * load<f32>(at(hzh, e)) * rg * (<f32>1 - rg);
          // d(x W + b) = [dz, dr, dn];  d(h U + b') = [dz, dr, dn r]
          store<f32>(at(dr, j), dzp);
          store<f32>(at(dr, H + j), drp);
          store<f32>(at(dr, 2 * H + j), dnp);
          store<f32>(at(qr, j), dzp);
          store<f32>(at(qr, H + j), drp);
          store<f32>(at(qr, 2 * H + j), dnp * rg);
          store<f32>(at(dh, e), dht * zg);
        }
      }
      // dh_{t-1} = dht z + d(h U) Uᵀ
      if (t > 0) gemm(dq, GH, 1, Ut, H, dh, H, B, GH, H);
      else memory.fill(dh, 0, <usize>BH << 2);
    } else {
      for (let r = 0; r < B; r++) {
        const dr = at(d, r * GH);
        for (let j = 0; j < H; j++) {
          const e = r * H + j;
          const v = load<f32>(at(h, e));
          const dht = load<f32>(at(dOut, e)) + load<f32>(at(dh, e));
          store<f32>(at(dr, j), dht * (<f32>1 - v * v));
        }
      }
    }
    // dh_{t-1} = dz_t Uᵀ (⊙ recMask), for every cell but the two GRUs (they add their own terms above)
    if (plainRecurrence) {
      memory.fill(dh, 0, <usize>BH << 2);
      if (t > 0) gemm(d, GH, 1, Ut, H, dh, H, B, GH, H);
      if (recMask != 0) scaleBy(dh, recMask, BH);
    }
    if (stepMask != 0) {
      for (let r = 0; r < B; r++) {
        if (!isPadding(stepMask, t, B, r)) continue;
        memory.fill(at(d, r * GH), 0, <usize>GH << 2);
        if (kind == GRU_RESET_AFTER) memory.fill(at(dzh, (t * B + r) * GH), 0, <usize>GH << 2);
        memory.copy(at(dh, r * H), at(carryH, r * H), <usize>H << 2);
        memory.copy(at(dc, r * H), at(carryC, r * H), <usize>H << 2);
      }
    }
  }
  const rows = T * B;
  // dU = Σ_{t ≥ 1} h_{t-1}ᵀ dz_t  (GRU: the z, r columns; the candidate columns take (r h_{t-1})ᵀ dn_pre)
  memory.fill(dU, 0, (<usize>H * GH) << 2);
  if (T > 1) {
    const K = (T - 1) * B;
    const dz1 = at(dz, B * GH);
    if (kind == GRU) {
      gemm(hs, 1, H, dz1, GH, dU, GH, H, K, 2 * H);
      gemm(at(rhs, BH), 1, H, at(dz1, 2 * H), GH, at(dU, 2 * H), GH, H, K, H);
    } else if (kind == GRU_RESET_AFTER) {
      gemm(hs, 1, H, at(dzh, B * GH), GH, dU, GH, H, K, GH);
    } else if (recMask != 0) {
      for (let r = 0; r < K; r++) {
        for (let j = 0; j < H; j++) store<f32>(at(hmAll, r * H + j), load<f32>(at(hs, r * H + j)) * load<f32>(at(recMask, (r % B) * H + j)));
      }
      gemm(hmAll, 1, H, dz1, GH, dU, GH, H, K, GH);
    } else {
      gemm(hs, 1, H, dz1, GH, dU, GH, H, K, GH);
    }
  }
  // GRU reset-after: db' = Σ d(h U + b'), every step (b' reaches step 0 too)
  if (kind == GRU_RESET_AFTER) {
    for (let r = 0; r < rows; r++) {
      const qr = at(dzh, r * GH);
      for (let j = 0; j < GH; j++) store<f32>(at(dExtra, j), load<f32>(at(dExtra, j)) + load<f32>(at(qr, j)));
    }
  }
  // dW = xᵀ dz;  db = Σ dz
  memory.fill(dW, 0, (<usize>F * GH) << 2);
  gemm(x, 1, F, dz, GH, dW, GH, F, rows, GH);
  memory.fill(db, 0, <usize>GH << 2);
  for (let r = 0; r < rows; r++) {
    const dr = at(dz, r * GH);
    for (let j = 0; j < GH; j++) store<f32>(at(db, j), load<f32>(at(db, j)) + load<f32>(at(dr, j)));
  }
  // dX = dz Wᵀ
  if (dX != 0) {
    transpose(W, GH, Wt, F, GH);
    memory.fill(dX, 0, (<usize>rows * F) << 2);
    gemm(dz, GH, 1, Wt, F, dX, F, rows, GH, F);
  }
}

/** The first byte after the module's static data (tables of Mathf.exp); the host's arrays start here. */
export function heapBase(): usize {
  return __heap_base;
}
