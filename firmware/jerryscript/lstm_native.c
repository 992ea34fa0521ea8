/*
 * lstmNativeStep(context): one step of the model whose native context (an
 * ArrayBuffer the es5 module built with `codegen --native host` holds) is given,
 * by the C kernel of native/lstm-step.c, compiled for this CPU (its plain-C path).
 * Returns 0 (STEP_OK) after a step; a negative status, with no step, when the
 * buffer is not a context the kernel can read (context.h STEP_*, lstm_native.h);
 * throws a TypeError when the argument is not an ArrayBuffer.
 *
 * Build with the kernel and the same flags as scripts/build-jerry-host.sh:
 *   cc -std=c11 -O2 -fwrapv -fno-strict-aliasing -I<repo>/native -I<jerryscript>/include \
 *      your_host.c lstm_native.c <repo>/native/lstm-step.c ...
 * (the kernel refuses to compile without -O and -fwrapv: native/lstm-step.c).
 */
#include <stdint.h>
#include "jerryscript.h"
#include "context.h"
#include "lstm_native.h"

/* The context is little-endian int32 words (docs/NUMERICS.md, "The native context"). */
_Static_assert (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the native context is little-endian: a big-endian host cannot read it");

/* The kernel's entry point (native/lstm-step.c): constants 0, the context holds its constant part itself. */
int32_t lstm_mcu_step (uint8_t *base, const uint8_t *constants);

/* Bytes of the tanh table at H_TABLE_OFF: int16 [2048] (NUMERICS.md §4). */
#define TABLE_BYTES 4096u

/* Whether `off` starts a word-aligned region inside a buffer of `limit` bytes, with room for `bytes` bytes. */
static bool region_inside (int32_t off, uint32_t bytes, uint32_t limit)
{
  return off >= 0 && (uint32_t) off < limit && bytes <= limit - (uint32_t) off;
}

/* An offset inside the buffer and a multiple of align (the element size the kernel reads there). */
static bool offset_ok (int32_t off, uint8_t align, uint32_t limit)
{
  return region_inside (off, 0, limit) && (off & (align - 1)) == 0;
}

/*
 * The checks before the kernel writes into the buffer: aligned, a header of the
 * version it reads, and every offset of the header and of each layer descriptor
 * inside the buffer (the state block and the tanh table whole). This refuses a
 * buffer that is not a context; it trusts the sizes of the module's own context,
 * which native/context.ts laid out.
 */
static int32_t context_check (const uint8_t *base, uint32_t size)
{
  /* { word, alignment }: the packed state puts a layer's h at any byte and c and the gates at any int16 */
  static const uint8_t header_offs[][2] = { { H_TABLE_OFF, 4 },        { H_SCRATCH_OFF, 4 }, { H_RESET_H_OFF, 4 },
                                            { H_HEAD_IN_OFF, 1 },      { H_HEAD_WEIGHTS_OFF, 4 }, { H_HEAD_BIAS_OFF, 4 },
                                            { H_OUTPUT_OFF, 4 },       { H_STATE_OFF, 4 },   { H_INPUT_OFF, 4 } };
  static const uint8_t layer_offs[][2] = { { L_IN_OFF, 1 },    { L_H_OFF, 1 },       { L_WEIGHTS_OFF, 4 }, { L_ROW_SCALE_OFF, 4 },
                                           { L_CELL_OFF, 2 },  { L_GATES_OFF, 2 },   { L_PEEP_OFF, 4 },    { L_REC_BIAS_OFF, 4 } };
  if (((uintptr_t) base & 3u) != 0) return LSTM_NATIVE_NOT_ALIGNED;
  if (size < 4u * HEADER_WORDS) return LSTM_NATIVE_BAD_LAYOUT;
  const int32_t *hd = (const int32_t *) base;
  if (hd[H_MAGIC] != LMK_MAGIC) return STEP_BAD_MAGIC;
  int32_t layers = hd[H_LAYER_COUNT];
  if (layers < 1 || (uint32_t) layers > (size / 4u - HEADER_WORDS) / LAYER_WORDS) return LSTM_NATIVE_BAD_LAYOUT;
  for (unsigned k = 0; k < sizeof header_offs / sizeof header_offs[0]; k++)
    if (!offset_ok (hd[header_offs[k][0]], header_offs[k][1], size)) return LSTM_NATIVE_BAD_LAYOUT;
  if (hd[H_STATE_BYTES] < 0 || !region_inside (hd[H_STATE_OFF], (uint32_t) hd[H_STATE_BYTES], size)
      || !region_inside (hd[H_TABLE_OFF], TABLE_BYTES, size))
    return LSTM_NATIVE_BAD_LAYOUT;
  for (int32_t l = 0; l < layers; l++)
    for (unsigned k = 0; k < sizeof layer_offs / sizeof layer_offs[0]; k++)
      if (!offset_ok (hd[HEADER_WORDS + l * LAYER_WORDS + layer_offs[k][0]], layer_offs[k][1], size))
        return LSTM_NATIVE_BAD_LAYOUT;
  return STEP_OK;
}

/* lstmNativeStep(context) -> status (the comment at the top). */
static jerry_value_t native_step (const jerry_call_info_t *call, const jerry_value_t args[], const jerry_length_t count)
{
  (void) call;
  if (count < 1 || !jerry_value_is_arraybuffer (args[0]))
    return jerry_throw_sz (JERRY_ERROR_TYPE, "lstmNativeStep(context): context must be an ArrayBuffer (the module's native context)");
  uint8_t *base = jerry_arraybuffer_data (args[0]);
  int32_t status = base ? context_check (base, jerry_arraybuffer_size (args[0])) : LSTM_NATIVE_BAD_LAYOUT;
  if (status == STEP_OK) status = lstm_mcu_step (base, 0);
  return jerry_number ((double) status);
}

bool lstm_native_register (void)
{
  jerry_value_t global = jerry_current_realm ();
  jerry_value_t step = jerry_function_external (native_step);
  jerry_value_t set = jerry_object_set_sz (global, "lstmNativeStep", step);
  bool ok = !jerry_value_is_exception (set) && jerry_value_is_true (set);
  jerry_value_free (set);
  jerry_value_free (step);
  jerry_value_free (global);
  return ok;
}
