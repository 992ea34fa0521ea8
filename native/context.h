/*
 * The native context: the one buffer the kernel reads and writes (docs/NUMERICS.md,
 * "The native context"). Every field is a little-endian int32 word; every *_OFF is a
 * byte offset from the start of the buffer, which must be 4-byte aligned.
 * native/context.ts writes it; the word indices there mirror these.
 */
#ifndef LSTM_MCU_CONTEXT_H
#define LSTM_MCU_CONTEXT_H

/* "LMK2", little-endian: the layout version (2: gate rows in interleaved groups of 4). */
#define LMK_MAGIC 0x324B4D4C

/* Header words. */
enum {
  H_MAGIC = 0,
  H_LAYER_COUNT = 1,
  H_TABLE_OFF = 2,        /* int16 [2048]: the tanh table of NUMERICS.md §4 */
  H_SCRATCH_OFF = 3,      /* int32: the expanded v of the widest layer (2 bytes per padded byte) */
  H_RESET_H_OFF = 4,      /* int8 [widest U4]: GRU r ⊙ h */
  H_HEAD_OUTPUTS = 5,     /* O */
  H_HEAD_INPUTS = 6,      /* U of the top layer */
  H_HEAD_IN_OFF = 7,      /* int8: the top layer's h */
  H_HEAD_WEIGHTS_OFF = 8, /* int8 [O][U4], rows padded with zeros */
  H_HEAD_BIAS_OFF = 9,    /* int32 [O] */
  H_OUTPUT_OFF = 10,      /* int32 [O]: y, the head accumulator */
  H_STATE_OFF = 11,       /* the mutable block: x, every h, y, every c, every gate */
  H_STATE_BYTES = 12,
  H_INPUT_OFF = 13,       /* int8 [I4]: x, written by the caller before each step */
  H_INPUT_SIZE = 14,
  H_RESERVED = 15,
  HEADER_WORDS = 16
};

/* Layer descriptor words (HEADER_WORDS + l * LAYER_WORDS). */
enum {
  L_CELL = 0,         /* CELL_* below */
  L_INPUTS = 1,       /* I */
  L_UNITS = 2,        /* U */
  L_IN_OFF = 3,       /* int8 [I4]: x or the layer below's h */
  L_H_OFF = 4,        /* int8 [U4]: this layer's h (Q0.7) */
  L_WEIGHTS_OFF = 5,  /* int8 [G·U4 / 4][I4 + U4][4]: groups of 4 padded rows, their words interleaved */
  L_ROW_SCALE_OFF = 6, /* int32 [G·U4][2]: m_r, BM_r = b_r · m_r + 2^(S−1) per padded row */
  L_UNUSED_7 = 7,
  L_SHIFT = 8,        /* S */
  L_CELL_BITS = 9,    /* K */
  L_CELL_OFF = 10,    /* int16 [U]: c (LSTM family), else 0 */
  L_GATES_OFF = 11,   /* int16 [G·U]: gate outputs, Q0.15 */
  L_PEEP_OFF = 12,    /* int32 [3U]: peephole multipliers pm (peephole), else 0 */
  L_PEEP_SHIFT = 13,  /* P (peephole), else 0 */
  L_REC_BIAS_OFF = 14, /* int32 [U]: RBM_u = b'_u · m_r + 2^(S−1) (gru-reset-after), else 0 */
  L_RESERVED = 15,
  LAYER_WORDS = 16
};

/* Cell kinds (core/cells.ts). */
enum { CELL_LSTM = 0, CELL_PEEPHOLE = 1, CELL_CIFG = 2, CELL_GRU = 3, CELL_GRU_RESET_AFTER = 4, CELL_RNN = 5 };

/* What lstm_mcu_step returns. */
enum { STEP_OK = 0, STEP_BAD_MAGIC = -1, STEP_BAD_CELL = -2 };

#endif
