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
/* sat8, sat16 and the table clamp are one SSAT instruction on Cortex-M3 and M4. */
#if defined(__ARM_FEATURE_SAT)
#include <arm_acle.h>
#define sat8(v) __ssat((v), 8)
#define sat16(v) __ssat((v), 16)
#define sat11(v) __ssat((v), 11)
#else
#define sat8(v) sat((v), -128, 127)
#define sat16(v) sat((v), -32768, 32767)
#define sat11(v) sat((v), -1024, 1023)
#endif

/*
 * The dot products read v "expanded", 2 bytes per int8 value, 4 values (8 bytes)
 * per word of int8 weights. Cortex-M4 (DSP): each word of v becomes two words,
 * SXTB16(v) = (v0, v2) and SXTB16(v ror 8) = (v1, v3), and one SMLAD adds two
 * products. Cortex-M3 (and any CPU without DSP): v as int16, one multiply-accumulate a value.
 *
 * Gate rows are stored in groups of 4 (each gate's rows padded with zero rows to
 * U4), the words of a group interleaved: word k of rows 0, 1, 2, 3, then word k+1.
 * One pass over v computes 4 rows; on Cortex-M4 one LDM loads a word of each.
 */
#if defined(__ARM_FEATURE_DSP)
static inline i32 sxtb16_ror8(i32 w) {
  i32 r;
  __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(w));
  return r;
}

/*
 * dst[2k] = SXTB16(src word k), dst[2k+1] = SXTB16(src word k ror 8), k < bytes4 / 4: as int16,
 * value j of word k goes to halfword 4k + (0, 2, 1, 3)[j]. A src that is not word-aligned (the h
 * of a layer above one whose units are not a multiple of 4) is read a byte at a time.
 */
static void expand(i32 *dst, const u8 *src, i32 bytes4) {
  if (((uintptr_t)src & 3) != 0) {
    i16 *d = (i16 *)dst;
    for (i32 k = 0; k < bytes4; k += 4) {
      d[k] = (i8)src[k];
      d[k + 2] = (i8)src[k + 1];
      d[k + 1] = (i8)src[k + 2];
      d[k + 3] = (i8)src[k + 3];
    }
    return;
  }
  const i32 *s = (const i32 *)src;
  for (i32 k = 0; k < bytes4 / 4; k++) {
    i32 w = s[k];
    dst[2 * k] = __sxtb16(w);
    dst[2 * k + 1] = sxtb16_ror8(w);
  }
}

/* Σ row[i] · v[i] over bytes4 int8 values of one plain row (the head): two SMLAD per word. */
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

/* a += SXTB16(w)·ve + SXTB16(w ror 8)·vo: 4 products of one row word (one SXTB16 reuses w's register). */
#define MAC_WORD(a, w, ve, vo) \
  "sxtb16 %[t], %[" w "]\n\t"  \
  "smlad %[" a "], %[t], %[" ve "], %[" a "]\n\t" \
  "sxtb16 %[" w "], %[" w "], ror #8\n\t" \
  "smlad %[" a "], %[" w "], %[" vo "], %[" a "]\n\t"

/* One word of v and of each of the 4 rows: LDRD of v's two expanded words, LDM of the rows' words, 8 SXTB16, 8 SMLAD. */
#define MAC_GROUP_WORD                                                                                                \
  "ldrd %[ve], %[vo], [%[v]], #8\n\t"                                                                                \
  "ldmia %[g]!, {%[w0], %[w1], %[w2], %[w3]}\n\t" MAC_WORD("a0", "w0", "ve", "vo") MAC_WORD("a1", "w1", "ve", "vo") \
      MAC_WORD("a2", "w2", "ve", "vo") MAC_WORD("a3", "w3", "ve", "vo")

/*
 * The 4 dot products of one group over `words` words of v (words >= 1), returning
 * where the words read end (the next group, after a whole row): 18 instructions
 * for 16 products, two words a pass (an odd count enters the first pass at its
 * second word). LDM needs its registers in ascending order, so the row words are
 * pinned to r4-r7.
 */
static inline __attribute__((always_inline)) const u8 *dot4(const u8 *group, const i32 *vx, u32 words, i32 *acc) {
  register i32 w0 __asm__("r4"), w1 __asm__("r5"), w2 __asm__("r6"), w3 __asm__("r7");
  i32 a0 = 0, a1 = 0, a2 = 0, a3 = 0, ve, vo, t;
  const u8 *g = group;
  __asm__(
      "lsrs %[n], %[n], #1\n\t"
      "bcc 1f\n\t"
      "adds %[n], %[n], #1\n\t"
      "b 2f\n\t"
      "1:\n\t" MAC_GROUP_WORD "2:\n\t" MAC_GROUP_WORD
      "subs %[n], %[n], #1\n\t"
      "bne 1b\n\t"
      : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [w0] "=&r"(w0), [w1] "=&r"(w1), [w2] "=&r"(w2),
        [w3] "=&r"(w3), [ve] "=&r"(ve), [vo] "=&r"(vo), [t] "=&r"(t), [g] "+r"(g), [v] "+r"(vx), [n] "+r"(words)
      :
      : "cc", "memory");
  acc[0] = a0;
  acc[1] = a1;
  acc[2] = a2;
  acc[3] = a3;
  return g;
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

/* The 4 dot products of one group over `words` words of v: each value of v is loaded once for 4 rows. */
static inline __attribute__((always_inline)) const u8 *dot4(const u8 *group, const i32 *vx, u32 words, i32 *acc) {
  const i8 *w = (const i8 *)group;
  const i16 *v = (const i16 *)vx;
  i32 a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  for (; words != 0; words--, w += 16, v += 4)
#pragma GCC unroll 4
    for (i32 k = 0; k < 4; k++) {
      i32 vk = v[k];
      a0 += w[k] * vk;
      a1 += w[4 + k] * vk;
      a2 += w[8 + k] * vk;
      a3 += w[12 + k] * vk;
    }
  acc[0] = a0;
  acc[1] = a1;
  acc[2] = a2;
  acc[3] = a3;
  return (const u8 *)w;
}
#endif

/* A layer while it steps: its descriptor read once into pointers. */
typedef struct {
  const i16 *ttMid;
  i32 units, units4, xBytes, hBytes, stride, shift, cellBits, peepShift, cToQ12[3];
  const u8 *in, *w;
  const i32 *rowScale, *peep, *recBiasMul;
  i8 *h, *resetH;
  i16 *c, *gates;
  i32 *vx;
} layer_t;

static inline i32 pad4(i32 n) { return (n + 3) & ~3; }

/* base: the context (header, descriptors, state: read and written); constants: its constant part (table, weights, scales). */
static void load_layer(layer_t *L, u8 *base, const u8 *constants, const i32 *d) {
  const i32 *hd = (const i32 *)base;
  L->ttMid = (const i16 *)(constants + hd[H_TABLE_OFF]) + 1024;
  L->vx = (i32 *)(base + hd[H_SCRATCH_OFF]);
  L->resetH = (i8 *)(base + hd[H_RESET_H_OFF]);
  L->units = d[L_UNITS];
  L->units4 = pad4(d[L_UNITS]);
  L->xBytes = pad4(d[L_INPUTS]);
  L->hBytes = L->units4;
  L->stride = L->xBytes + L->hBytes;
  L->shift = d[L_SHIFT];
  L->cellBits = d[L_CELL_BITS];
  // c (Q(K).(15−K)) in Q3.12: (c · cToQ12[0] + cToQ12[1]) >> cToQ12[2] (new_h)
  L->cToQ12[0] = L->cellBits < 3 ? 1 : 1 << (L->cellBits - 3);
  L->cToQ12[1] = L->cellBits < 3 ? HALF(3 - L->cellBits) : 0;
  L->cToQ12[2] = L->cellBits < 3 ? 3 - L->cellBits : 0;
  L->peepShift = d[L_PEEP_SHIFT];
  L->in = base + d[L_IN_OFF];
  L->h = (i8 *)(base + d[L_H_OFF]);
  L->w = constants + d[L_WEIGHTS_OFF];
  L->rowScale = (const i32 *)(constants + d[L_ROW_SCALE_OFF]);
  L->peep = (const i32 *)(constants + d[L_PEEP_OFF]);
  L->recBiasMul = (const i32 *)(constants + d[L_REC_BIAS_OFF]);
  L->c = (i16 *)(base + d[L_CELL_OFF]);
  L->gates = (i16 *)(base + d[L_GATES_OFF]);
}

/*
 * tanh and σ of the gate input x = sat16(z) (Q3.12), from z itself (§4):
 *   tanh: TT[sat((x >> 4) + 1024, 0, 2047)] = TTmid[clamp(z >> 4, −1024, 1023)]
 *   σ:    (TT[(x >> 5) + 1024] + 2^15) >> 1 = (TTmid[clamp(z >> 5, −1024, 1023)] + 2^15) >> 1
 * since sat16 clamps at multiples of 16 and 32 that >> 4 and >> 5 map onto the same ends
 * (−32768 >> 5 = −1024, 32767 >> 5 = 1023; the tanh clamp at ±1024 is inside ±2048).
 * TTmid = TT + 1024; the clamp is one SSAT of 11 bits.
 */
static inline i32 tanh_of(const i16 *ttMid, i32 zQ12) { return ttMid[sat11(zQ12 >> 4)]; }
static inline i32 sigmoid_of(const i16 *ttMid, i32 zQ12) { return (ttMid[sat11(zQ12 >> 5)] + 32768) >> 1; }

/* Gate input of padded row r before saturation: ((Σ W v) · m_r + BM_r) >> S, BM_r = b_r · m_r + 2^(S−1) (§5 notes). */
static inline i32 scaled(const layer_t *L, i32 r, i32 acc) { return (acc * L->rowScale[2 * r] + L->rowScale[2 * r + 1]) >> L->shift; }

/* The 4 dot products of the group holding padded row r0 (a multiple of 4), over v's words [from, from + words). */
static __attribute__((noinline)) void group_dot(const layer_t *L, i32 r0, i32 from, i32 words, i32 *acc) {
  dot4(L->w + r0 * L->stride + 16 * from, L->vx + 2 * from, (u32)words, acc);
}

/* Gate output of one row from its dot product: σ or tanh (when tanh is set) of ((acc · m + BM) >> S), rs = (m, BM). */
static inline __attribute__((always_inline)) i32 gate_out(const i16 *ttMid, const i32 *rs, i32 acc, i32 S, int tanh) {
  i32 zQ12 = (acc * rs[0] + rs[1]) >> S;
  return tanh ? tanh_of(ttMid, zQ12) : sigmoid_of(ttMid, zQ12);
}

/*
 * The rows of gate g (units 0..U, padded rows g·U4 + u) through σ, or tanh when tanh
 * is set: 4 rows a pass over v; a last group of fewer than 4 units skips its padding rows.
 */
static inline __attribute__((always_inline)) void gate_rows_of(const layer_t *L, i32 g, int tanh) {
  const i16 *tt = L->ttMid;
  const i32 *vx = L->vx;
  i32 S = L->shift, words = L->stride / 4, acc[4];
  const u8 *group = L->w + g * L->units4 * L->stride;
  const i32 *rs = L->rowScale + 2 * g * L->units4;
  i16 *out = L->gates + g * L->units;
  for (i32 left = L->units; left >= 4; left -= 4, rs += 8, out += 4) {
    group = dot4(group, vx, (u32)words, acc);
    out[0] = (i16)gate_out(tt, rs, acc[0], S, tanh);
    out[1] = (i16)gate_out(tt, rs + 2, acc[1], S, tanh);
    out[2] = (i16)gate_out(tt, rs + 4, acc[2], S, tanh);
    out[3] = (i16)gate_out(tt, rs + 6, acc[3], S, tanh);
  }
  if ((L->units & 3) == 0) return;
  group_dot(L, g * L->units4 + (L->units & ~3), 0, words, acc);
  for (i32 k = 0; k < (L->units & 3); k++) out[k] = (i16)gate_out(tt, rs + 2 * k, acc[k], S, tanh);
}

static void sigmoid_rows(const layer_t *L, i32 g) { gate_rows_of(L, g, 0); }
static void tanh_rows(const layer_t *L, i32 g) { gate_rows_of(L, g, 1); }

/* c = sat16(roundShift(f·c, 15) + roundShift(i·g, 15 + K)) (§5 step 4). */
static inline __attribute__((always_inline)) i32 new_cell(i32 cQ, i32 iQ15, i32 fQ15, i32 gQ15, i32 K) {
  return sat16(ROUND_SHIFT(fQ15 * cQ, 15) + ROUND_SHIFT(iQ15 * gQ15, 15 + K));
}

/*
 * h = sat8(roundShift(o · tanh(cArg), 23)) (§5 step 5), cArg = c in Q3.12: roundShift(c, 3 − K)
 * for K < 3, c · 2^(K−3) otherwise, both (c · cToQ12[0] + cToQ12[1]) >> cToQ12[2] (load_layer).
 */
static inline __attribute__((always_inline)) i32 new_h(const i16 *ttMid, const i32 *cToQ12, i32 cQ, i32 oQ15) {
  i32 argQ12 = (cQ * cToQ12[0] + cToQ12[1]) >> cToQ12[2];
  return sat8(ROUND_SHIFT(oQ15 * tanh_of(ttMid, argQ12), 23));
}

static void cell_update(const layer_t *L, i32 u, i32 iQ15, i32 fQ15, i32 gQ15) {
  L->c[u] = (i16)new_cell(L->c[u], iQ15, fQ15, gQ15, L->cellBits);
}

static void hidden(const layer_t *L, i32 u, i32 oQ15) { L->h[u] = (i8)new_h(L->ttMid, L->cToQ12, L->c[u], oQ15); }

/* c and h of every unit from the gates i, f, g, o; coupled (CIFG, §5f): i = 2^15 − f, iGate unused. */
static inline __attribute__((always_inline)) void cells_of(const layer_t *L, const i16 *iGate, const i16 *fGate,
                                                             const i16 *gGate, const i16 *oGate, int coupled) {
  const i16 *tt = L->ttMid;
  i32 K = L->cellBits, U = L->units, cToQ12[3] = {L->cToQ12[0], L->cToQ12[1], L->cToQ12[2]};
  i16 *c = L->c;
  i8 *h = L->h;
  for (i32 u = 0; u < U; u++) {
    i32 fQ15 = fGate[u], iQ15 = coupled ? 32768 - fQ15 : iGate[u];
    i32 cQ = new_cell(c[u], iQ15, fQ15, gGate[u], K);
    c[u] = (i16)cQ;
    h[u] = (i8)new_h(tt, cToQ12, cQ, oGate[u]);
  }
}

static void lstm_cells(const layer_t *L, const i16 *g) { cells_of(L, g, g + L->units, g + 2 * L->units, g + 3 * L->units, 0); }
static void cifg_cells(const layer_t *L, const i16 *g) { cells_of(L, g, g, g + L->units, g + 2 * L->units, 1); }

/* LSTM, gates i, f, g, o (§5). */
static void lstm_step(const layer_t *L) {
  sigmoid_rows(L, 0);
  sigmoid_rows(L, 1);
  tanh_rows(L, 2);
  sigmoid_rows(L, 3);
  lstm_cells(L, L->gates);
}

/* Peephole term of multiplier k on the cell value c: roundShift(c · pm_k, P) (§5e). */
static inline i32 peep_q12(const layer_t *L, i32 k, i32 cQ) { return ROUND_SHIFT(cQ * L->peep[k], L->peepShift); }

/* The σ rows of gate g with peephole multipliers pm[p·U + u] on c (§5e): σ(sat16(scaled + roundShift(c · pm, P))). */
static void peep_rows(const layer_t *L, i32 g, i32 p) {
  i32 U = L->units, acc[4];
  for (i32 u0 = 0; u0 < U; u0 += 4) {
    i32 r0 = g * L->units4 + u0, n = U - u0 < 4 ? U - u0 : 4;
    group_dot(L, r0, 0, L->stride / 4, acc);
    for (i32 k = 0; k < n; k++) {
      i32 u = u0 + k, x = sat16(scaled(L, r0 + k, acc[k]) + peep_q12(L, p * U + u, L->c[u]));
      L->gates[g * U + u] = (i16)sigmoid_of(L->ttMid, x);
    }
  }
}

/* Peephole LSTM (§5e): rows i, f see the old c; rows g, the cell update; rows o see the new c. */
static void peephole_step(const layer_t *L) {
  i32 U = L->units;
  i16 *g = L->gates;
  peep_rows(L, 0, 0);
  peep_rows(L, 1, 1);
  tanh_rows(L, 2);
  for (i32 u = 0; u < U; u++) cell_update(L, u, g[u], g[U + u], g[2 * U + u]);
  peep_rows(L, 3, 2);
  for (i32 u = 0; u < U; u++) hidden(L, u, g[3 * U + u]);
}

/* CIFG, gates f, g, o; i = 2^15 − f (§5f). */
static void cifg_step(const layer_t *L) {
  sigmoid_rows(L, 0);
  tanh_rows(L, 1);
  sigmoid_rows(L, 2);
  cifg_cells(L, L->gates);
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
  sigmoid_rows(L, 0);
  sigmoid_rows(L, 1);
  // rh = sat8(roundShift(r·h, 15)) (Q0.15 × Q0.7 → Q0.7), then the h half of the expanded v becomes rh.
  for (i32 u = 0; u < U; u++) L->resetH[u] = (i8)sat8(ROUND_SHIFT(L->gates[U + u] * L->h[u], 15));
  expand(L->vx + L->xBytes / 2, (const u8 *)L->resetH, L->hBytes);
  tanh_rows(L, 2);
  gru_hidden(L);
}

/*
 * GRU, reset after the recurrent product (§5d), candidate rows:
 *   nX = (accX·m + BM) >> S;  nH = sat((accH·m + RBM) >> S, −2^16, 2^16 − 1)
 *   h~ = tanh(sat16(nX + roundShift(r·nH, 15)))
 */
static void gru_reset_after_step(const layer_t *L) {
  i32 U = L->units, xWords = L->xBytes / 4, accX[4], accH[4];
  sigmoid_rows(L, 0);
  sigmoid_rows(L, 1);
  for (i32 u0 = 0; u0 < U; u0 += 4) {
    i32 r0 = 2 * L->units4 + u0, n = U - u0 < 4 ? U - u0 : 4;
    group_dot(L, r0, 0, xWords, accX);
    group_dot(L, r0, xWords, L->hBytes / 4, accH);
    for (i32 k = 0; k < n; k++) {
      i32 u = u0 + k, m = L->rowScale[2 * (r0 + k)];
      i32 nX = (accX[k] * m + L->rowScale[2 * (r0 + k) + 1]) >> L->shift;
      i32 nH = sat((accH[k] * m + L->recBiasMul[u]) >> L->shift, -65536, 65535);
      L->gates[2 * U + u] = (i16)tanh_of(L->ttMid, sat16(nX + ROUND_SHIFT(L->gates[U + u] * nH, 15)));
    }
  }
  gru_hidden(L);
}

/* Simple RNN (§5c): h = sat8(roundShift(tanh(gateIn), 8)). */
static void rnn_step(const layer_t *L) {
  tanh_rows(L, 0);
  for (i32 u = 0; u < L->units; u++) L->h[u] = (i8)sat8(ROUND_SHIFT(L->gates[u], 8));
}

/* One layer: v = [input, h] expanded, then the cell's rows and state (§5g: h is written after every row read it). */
static i32 layer_step(u8 *base, const u8 *constants, const i32 *d) {
  layer_t L;
  load_layer(&L, base, constants, d);
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
static void head_step(u8 *base, const u8 *constants) {
  const i32 *hd = (const i32 *)base;
  i32 *vx = (i32 *)(base + hd[H_SCRATCH_OFF]);
  i32 inBytes = pad4(hd[H_HEAD_INPUTS]);
  const u8 *w = constants + hd[H_HEAD_WEIGHTS_OFF];
  const i32 *bias = (const i32 *)(constants + hd[H_HEAD_BIAS_OFF]);
  i32 *y = (i32 *)(base + hd[H_OUTPUT_OFF]);
  expand(vx, base + hd[H_HEAD_IN_OFF], inBytes);
  for (i32 k = 0; k < hd[H_HEAD_OUTPUTS]; k++) y[k] = bias[k] + dot(w + k * inBytes, vx, inBytes);
}

/*
 * The entry point (offset 0 of the blob): one step of the model whose context
 * starts at base, with x already written at H_INPUT_OFF. constants: where the
 * context's constant part is read (the tanh table, weights, row scales, peephole
 * and head, at their offsets from it: a copy of the whole context in memory-mapped
 * flash), or 0 to read it from base itself. Returns STEP_OK, or a negative STEP_*
 * when the buffer is not a context this kernel reads.
 */
__attribute__((section(".text.entry"), used)) i32 lstm_mcu_step(u8 *base, const u8 *constants) {
  const i32 *hd = (const i32 *)base;
  if (!constants) constants = base;
  assert_wrapv(hd[H_LAYER_COUNT]);
  if (hd[H_MAGIC] != LMK_MAGIC) return STEP_BAD_MAGIC;
  for (i32 l = 0; l < hd[H_LAYER_COUNT]; l++) {
    i32 status = layer_step(base, constants, hd + HEADER_WORDS + l * LAYER_WORDS);
    if (status != STEP_OK) return status;
  }
  head_step(base, constants);
  return STEP_OK;
}
