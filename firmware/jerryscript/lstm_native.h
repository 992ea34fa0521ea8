/*
 * The native step for the es5 module in a JerryScript host: the kernel of
 * native/lstm-step.c registered as the global function lstmNativeStep, which a
 * module generated with `lstm-mcu codegen --target es5 --native host` calls
 * instead of its JavaScript step (HOST_API.md, "The native step").
 */
#ifndef LSTM_NATIVE_H
#define LSTM_NATIVE_H

#include <stdbool.h>

/* What lstmNativeStep returns besides the kernel's STEP_* (native/context.h). */
enum {
  LSTM_NATIVE_NOT_ALIGNED = -16, /* the context's data does not start on a 4-byte boundary */
  LSTM_NATIVE_BAD_LAYOUT = -17   /* a region of the header or a layer descriptor lies outside the buffer */
};

/* Defines the global lstmNativeStep(context) in the current realm; call it after jerry_init. Returns false on failure. */
bool lstm_native_register (void);

#endif
