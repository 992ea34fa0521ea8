/*
 * One streaming step of the integer contract (docs/NUMERICS.md §5–§5g) for every
 * cell kind, stacked layers and the head, in C for Cortex-M3/M4 Thumb-2.
 *
 * Integers only, no libc, no globals, no constant data: everything the step reads
 * or writes lives in one buffer, the native context (context.h), so one
 * position-independent blob serves every model. The entry point lstm_mcu_step is
 * placed at offset 0 of the blob (blob.ld). Every intermediate is proven below
 * 2^31 by quantize/bounds.ts before a model is accepted (NUMERICS.md §7), so int32
 * arithmetic is exact; -fwrapv only removes undefined behaviour from the compiler's view.
 */
#include <stdint.h>
#include "context.h"

#if defined(__ARM_FEATURE_DSP)
#include <arm_acle.h>
#endif

/* GCC behaviour the contract relies on, checked when this file is compiled. */
#if !defined(__OPTIMIZE__)
#error "build with optimisation (scripts/build-native.sh): the -fwrapv check needs it"
#endif
_Static_assert((-1 >> 1) == -1 && (-3 >> 1) == -2, "right shift of a negative value must be arithmetic (a floor)");
_Static_assert(sizeof(int) == 4, "int is 32 bits");
/* Without -fwrapv GCC folds x + 1 > x to true; a surviving call is a compile error. */
extern void lstm_mcu_needs_fwrapv(void) __attribute__((error("compile with -fwrapv")));
static inline void assert_wrapv(int32_t x) {
  if (__builtin_constant_p(x + 1 > x)) lstm_mcu_needs_fwrapv();
}

typedef int32_t i32;
typedef int16_t i16;
typedef int8_t i8;
typedef uint8_t u8;
typedef uint32_t u32;

/* 2^(s−1) for a shift s in 1..31: the only left shift in this file, of the positive 1. */
#define HALF(s) (1 << ((s) - 1))
/* roundShift(v, s) = (v + 2^(s−1)) >> s (NUMERICS.md §1): |v| + 2^(s−1) < 2^31 by §7. */
#define ROUND_SHIFT(v, s) (((v) + HALF(s)) >> (s))

static inline i32 sat(i32 v, i32 lo, i32 hi) { return v < lo ? lo : v > hi ? hi : v; }
/* sat8, sat16 and the table clamp are one SSAT / USAT instruction on Cortex-M3 and M4. */
#if defined(__ARM_FEATURE_SAT)
#include <arm_acle.h>
#define sat8(v) __ssat((v), 8)
#define sat16(v) __ssat((v), 16)
#define sat_index(v) ((i32)__usat((v), 11))
#else
#define sat8(v) sat((v), -128, 127)
#define sat16(v) sat((v), -32768, 32767)
#define sat_index(v) sat((v), 0, 2047)
#endif

/* tanh of a Q3.12 value: TT[sat((x >> 4) + 1024, 0, 2047)] (§4). */
static inline i32 tanh_q15(const i16 *tt, i32 xQ12) { return tt[sat_index((xQ12 >> 4) + 1024)]; }
/* σ of an int16 Q3.12 value: (TT[(x >> 5) + 1024] + 2^15) >> 1 (§4). */
static inline i32 sigmoid_q15(const i16 *tt, i32 xQ12) { return (tt[(xQ12 >> 5) + 1024] + 32768) >> 1; }

/*
 * The dot products read v "expanded", 2 bytes per int8 value, so that a row of
 * int8 weights (4-byte aligned, padded to a multiple of 4) is read a word at a time.
 * Cortex-M4 (DSP): each word of v becomes two words, SXTB16(v) = (v0, v2) and
 * SXTB16(v ror 8) = (v1, v3), and one SMLAD adds two products.
 * Cortex-M3: v as int16, one multiply-accumulate per value.
 */
#if defined(__ARM_FEATURE_DSP)
static inline i32 sxtb16_ror8(i32 w) {
  i32 r;
  __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(w));
  return r;
}

/* dst[2k] = SXTB16(src word k), dst[2k+1] = SXTB16(src word k ror 8), k < bytes4 / 4. */
static void expand(i32 *dst, const u8 *src, i32 bytes4) {
  const i32 *s = (const i32 *)src;
  for (i32 k = 0; k < bytes4 / 4; k++) {
    i32 w = s[k];
    dst[2 * k] = __sxtb16(w);
    dst[2 * k + 1] = sxtb16_ror8(w);
  }
}

/* Σ row[i] · v[i] over bytes4 int8 values: two SMLAD per word of the row. */
static i32 dot(const u8 *row, const i32 *vx, i32 bytes4) {
  const i32 *w = (const i32 *)row;
  const i32 *end = vx + bytes4 / 2;
  i32 acc = 0;
  while (vx < end) {
    i32 wk = *w++;
    acc = __smlad(__sxtb16(wk), vx[0], acc);
    acc = __smlad(sxtb16_ror8(wk), vx[1], acc);
    vx += 2;
  }
  return acc;
}

/* The dot products of two consecutive rows (row, row + stride) over the same v: each word of v is loaded once. */
static inline __attribute__((always_inline)) void dot2(const u8 *row, i32 stride, const i32 *vx, i32 bytes4, i32 *acc) {
  const i32 *w0 = (const i32 *)row, *w1 = (const i32 *)(row + stride);
  i32 a0 = 0, a1 = 0;
  for (u32 k = (u32)bytes4 / 4; k != 0; k--) {
    i32 ve = vx[0], vo = vx[1], x0 = *w0++, x1 = *w1++;
    vx += 2;
    a0 = __smlad(sxtb16_ror8(x0), vo, __smlad(__sxtb16(x0), ve, a0));
    a1 = __smlad(sxtb16_ror8(x1), vo, __smlad(__sxtb16(x1), ve, a1));
  }
  acc[0] = a0;
  acc[1] = a1;
}
#else
static void expand(i32 *dst, const u8 *src, i32 bytes4) {
  i16 *d = (i16 *)dst;
  for (i32 k = 0; k < bytes4; k++) d[k] = (i8)src[k];
}

static i32 dot(const u8 *row, const i32 *vx, i32 bytes4) {
  const i8 *w = (const i8 *)row;
  const i16 *v = (const i16 *)vx;
  i32 acc = 0;
  for (i32 k = 0; k < bytes4; k++) acc += w[k] * v[k];
  return acc;
}

static void dot2(const u8 *row, i32 stride, const i32 *vx, i32 bytes4, i32 *acc) {
  acc[0] = dot(row, vx, bytes4);
  acc[1] = dot(row + stride, vx, bytes4);
}
#endif

/* A layer while it steps: its descriptor read once into pointers. */
typedef struct {
  const i16 *tt;
  i32 units, xBytes, hBytes, stride, shift, cellBits, peepShift;
  const u8 *in, *w;
  const i32 *biasMul, *mul, *peep, *recBiasMul;
  i8 *h, *resetH;
  i16 *c, *gates;
  i32 *vx;
} layer_t;

static inline i32 pad4(i32 n) { return (n + 3) & ~3; }

static void load_layer(layer_t *L, u8 *base, const i32 *d) {
  const i32 *hd = (const i32 *)base;
  L->tt = (const i16 *)(base + hd[H_TABLE_OFF]);
  L->vx = (i32 *)(base + hd[H_SCRATCH_OFF]);
  L->resetH = (i8 *)(base + hd[H_RESET_H_OFF]);
  L->units = d[L_UNITS];
  L->xBytes = pad4(d[L_INPUTS]);
  L->hBytes = pad4(d[L_UNITS]);
  L->stride = L->xBytes + L->hBytes;
  L->shift = d[L_SHIFT];
  L->cellBits = d[L_CELL_BITS];
  L->peepShift = d[L_PEEP_SHIFT];
  L->in = base + d[L_IN_OFF];
  L->h = (i8 *)(base + d[L_H_OFF]);
  L->w = base + d[L_WEIGHTS_OFF];
  L->biasMul = (const i32 *)(base + d[L_BIAS_MUL_OFF]);
  L->mul = (const i32 *)(base + d[L_MUL_OFF]);
  L->peep = (const i32 *)(base + d[L_PEEP_OFF]);
  L->recBiasMul = (const i32 *)(base + d[L_REC_BIAS_OFF]);
  L->c = (i16 *)(base + d[L_CELL_OFF]);
  L->gates = (i16 *)(base + d[L_GATES_OFF]);
}

/*
 * Gate input of row r in Q3.12 (§5 steps 1-2, §5e):
 *   sat16(((Σ W[r,i] v[i]) · m_r + BM_r) >> S + extraQ12),  BM_r = b_r · m_r + 2^(S−1)
 * which is sat16(roundShift(acc_r · m_r, S) + extraQ12) (the bias folded, §5 notes).
 */
static i32 gate_in(const layer_t *L, i32 r, i32 extraQ12) {
  i32 acc = dot(L->w + r * L->stride, L->vx, L->stride);
  return sat16(((acc * L->mul[r] + L->biasMul[r]) >> L->shift) + extraQ12);
}

/* σ or tanh (when tanh is set) of sat16(((Σ W v) · m_r + BM_r) >> S), as gate_in with no extra term. */
static inline __attribute__((always_inline)) i32 activate(const i16 *tt, i32 acc, i32 mul, i32 biasMul, i32 shift, int tanh) {
  i32 x = sat16((acc * mul + biasMul) >> shift);
  return tanh ? tanh_q15(tt, x) : sigmoid_q15(tt, x);
}

/* Rows [from, to) through σ, or through tanh when tanh is set: two rows per pass over v. */
static inline __attribute__((always_inline)) void rows_of(const layer_t *L, i32 from, i32 to, int tanh) {
  const i16 *tt = L->tt;
  const i32 *mul = L->mul, *biasMul = L->biasMul, *vx = L->vx;
  const u8 *w = L->w;
  i16 *gates = L->gates;
  i32 stride = L->stride, shift = L->shift, r = from, acc[2];
  for (; r + 1 < to; r += 2) {
    dot2(w + r * stride, stride, vx, stride, acc);
    gates[r] = (i16)activate(tt, acc[0], mul[r], biasMul[r], shift, tanh);
    gates[r + 1] = (i16)activate(tt, acc[1], mul[r + 1], biasMul[r + 1], shift, tanh);
  }
  for (; r < to; r++) gates[r] = (i16)activate(tt, dot(w + r * stride, vx, stride), mul[r], biasMul[r], shift, tanh);
}

static void sigmoid_rows(const layer_t *L, i32 from, i32 to) { rows_of(L, from, to, 0); }
static void tanh_rows(const layer_t *L, i32 from, i32 to) { rows_of(L, from, to, 1); }
static void rows(const layer_t *L, i32 from, i32 to, int tanh) {
  if (tanh)
    tanh_rows(L, from, to);
  else
    sigmoid_rows(L, from, to);
}

/* c = sat16(roundShift(f·c, 15) + roundShift(i·g, 15 + K)) (§5 step 4). */
static void cell_update(const layer_t *L, i32 u, i32 iQ15, i32 fQ15, i32 gQ15) {
  i32 K = L->cellBits;
  L->c[u] = (i16)sat16(ROUND_SHIFT(fQ15 * L->c[u], 15) + ROUND_SHIFT(iQ15 * gQ15, 15 + K));
}

/* h = sat8(roundShift(o · tanh(cArg), 23)), cArg = c in Q3.12 (§5 step 5; K > 3 multiplies). */
static void hidden(const layer_t *L, i32 u, i32 oQ15) {
  i32 K = L->cellBits, c = L->c[u];
  i32 argQ12 = K < 3 ? ROUND_SHIFT(c, 3 - K) : c * (1 << (K - 3));
  L->h[u] = (i8)sat8(ROUND_SHIFT(oQ15 * tanh_q15(L->tt, argQ12), 23));
}

/* LSTM, gates i, f, g, o (§5). */
static void lstm_step(const layer_t *L) {
  i32 U = L->units;
  const i16 *g = L->gates;
  rows(L, 0, 2 * U, 0);
  rows(L, 2 * U, 3 * U, 1);
  rows(L, 3 * U, 4 * U, 0);
  for (i32 u = 0; u < U; u++) {
    cell_update(L, u, g[u], g[U + u], g[2 * U + u]);
    hidden(L, u, g[3 * U + u]);
  }
}

/* Peephole term of multiplier k on the cell value c: roundShift(c · pm_k, P) (§5e). */
static inline i32 peep_q12(const layer_t *L, i32 k, i32 cQ) { return ROUND_SHIFT(cQ * L->peep[k], L->peepShift); }

/* Peephole LSTM (§5e): rows i, f see the old c; rows g, the cell update; rows o see the new c. */
static void peephole_step(const layer_t *L) {
  i32 U = L->units;
  i16 *g = L->gates;
  for (i32 u = 0; u < U; u++) {
    g[u] = (i16)sigmoid_q15(L->tt, gate_in(L, u, peep_q12(L, u, L->c[u])));
    g[U + u] = (i16)sigmoid_q15(L->tt, gate_in(L, U + u, peep_q12(L, U + u, L->c[u])));
  }
  rows(L, 2 * U, 3 * U, 1);
  for (i32 u = 0; u < U; u++) cell_update(L, u, g[u], g[U + u], g[2 * U + u]);
  for (i32 u = 0; u < U; u++) {
    g[3 * U + u] = (i16)sigmoid_q15(L->tt, gate_in(L, 3 * U + u, peep_q12(L, 2 * U + u, L->c[u])));
    hidden(L, u, g[3 * U + u]);
  }
}

/* CIFG, gates f, g, o; i = 2^15 − f (§5f). */
static void cifg_step(const layer_t *L) {
  i32 U = L->units;
  const i16 *g = L->gates;
  rows(L, 0, U, 0);
  rows(L, U, 2 * U, 1);
  rows(L, 2 * U, 3 * U, 0);
  for (i32 u = 0; u < U; u++) {
    cell_update(L, u, 32768 - g[u], g[u], g[U + u]);
    hidden(L, u, g[2 * U + u]);
  }
}

/* h = sat8(roundShift(z·h + roundShift((2^15 − z)·h~, 8), 15)) (§5b step 6). */
static void gru_hidden(const layer_t *L) {
  i32 U = L->units;
  for (i32 u = 0; u < U; u++) {
    i32 z = L->gates[u], n = L->gates[2 * U + u];
    L->h[u] = (i8)sat8(ROUND_SHIFT(z * L->h[u] + ROUND_SHIFT((32768 - z) * n, 8), 15));
  }
}

/* GRU, reset before the recurrent product (§5b): the candidate rows read v' = [x, r ⊙ h]. */
static void gru_step(const layer_t *L) {
  i32 U = L->units;
  rows(L, 0, 2 * U, 0);
  // rh = sat8(roundShift(r·h, 15)) (Q0.15 × Q0.7 → Q0.7), then the h half of the expanded v becomes rh.
  for (i32 u = 0; u < U; u++) L->resetH[u] = (i8)sat8(ROUND_SHIFT(L->gates[U + u] * L->h[u], 15));
  expand(L->vx + L->xBytes / 2, (const u8 *)L->resetH, L->hBytes);
  rows(L, 2 * U, 3 * U, 1);
  gru_hidden(L);
}

/*
 * GRU, reset after the recurrent product (§5d), candidate rows:
 *   nX = (accX·m + BM) >> S;  nH = sat((accH·m + RBM) >> S, −2^16, 2^16 − 1)
 *   h~ = tanh(sat16(nX + roundShift(r·nH, 15)))
 */
static void gru_reset_after_step(const layer_t *L) {
  i32 U = L->units;
  rows(L, 0, 2 * U, 0);
  for (i32 u = 0; u < U; u++) {
    i32 r = 2 * U + u;
    const u8 *row = L->w + r * L->stride;
    i32 accX = dot(row, L->vx, L->xBytes);
    i32 accH = dot(row + L->xBytes, L->vx + L->xBytes / 2, L->hBytes);
    i32 nX = (accX * L->mul[r] + L->biasMul[r]) >> L->shift;
    i32 nH = sat((accH * L->mul[r] + L->recBiasMul[u]) >> L->shift, -65536, 65535);
    L->gates[r] = (i16)tanh_q15(L->tt, sat16(nX + ROUND_SHIFT(L->gates[U + u] * nH, 15)));
  }
  gru_hidden(L);
}

/* Simple RNN (§5c): h = sat8(roundShift(tanh(gateIn), 8)). */
static void rnn_step(const layer_t *L) {
  rows(L, 0, L->units, 1);
  for (i32 u = 0; u < L->units; u++) L->h[u] = (i8)sat8(ROUND_SHIFT(L->gates[u], 8));
}

/* One layer: v = [input, h] expanded, then the cell's rows and state (§5g: h is written after every row read it). */
static i32 layer_step(u8 *base, const i32 *d) {
  layer_t L;
  load_layer(&L, base, d);
  expand(L.vx, L.in, L.xBytes);
  expand(L.vx + L.xBytes / 2, (const u8 *)L.h, L.hBytes);
  switch (d[L_CELL]) {
    case CELL_LSTM: lstm_step(&L); return STEP_OK;
    case CELL_PEEPHOLE: peephole_step(&L); return STEP_OK;
    case CELL_CIFG: cifg_step(&L); return STEP_OK;
    case CELL_GRU: gru_step(&L); return STEP_OK;
    case CELL_GRU_RESET_AFTER: gru_reset_after_step(&L); return STEP_OK;
    case CELL_RNN: rnn_step(&L); return STEP_OK;
    default: return STEP_BAD_CELL;
  }
}

/* y_k = Σ_j D[k,j] · h[j] + d_k over the top layer's h (§5 step 6). */
static void head_step(u8 *base) {
  const i32 *hd = (const i32 *)base;
  i32 *vx = (i32 *)(base + hd[H_SCRATCH_OFF]);
  i32 inBytes = pad4(hd[H_HEAD_INPUTS]);
  const u8 *w = base + hd[H_HEAD_WEIGHTS_OFF];
  const i32 *bias = (const i32 *)(base + hd[H_HEAD_BIAS_OFF]);
  i32 *y = (i32 *)(base + hd[H_OUTPUT_OFF]);
  expand(vx, base + hd[H_HEAD_IN_OFF], inBytes);
  for (i32 k = 0; k < hd[H_HEAD_OUTPUTS]; k++) y[k] = bias[k] + dot(w + k * inBytes, vx, inBytes);
}

/*
 * The entry point (offset 0 of the blob): one step of the model whose context
 * starts at base, with x already written at H_INPUT_OFF. Returns STEP_OK, or a
 * negative STEP_* when the buffer is not a context this kernel reads.
 */
__attribute__((section(".text.entry"), used)) i32 lstm_mcu_step(u8 *base) {
  const i32 *hd = (const i32 *)base;
  assert_wrapv(hd[H_LAYER_COUNT]);
  if (hd[H_MAGIC] != LMK_MAGIC) return STEP_BAD_MAGIC;
  for (i32 l = 0; l < hd[H_LAYER_COUNT]; l++) {
    i32 status = layer_step(base, hd + HEADER_WORDS + l * LAYER_WORDS);
    if (status != STEP_OK) return status;
  }
  head_step(base);
  return STEP_OK;
}
