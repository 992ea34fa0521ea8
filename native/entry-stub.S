/*
 * The entry stub of the generated espruino module (docs/NUMERICS.md, "The native
 * context"): 64 bytes at the end of the blob, after the kernel. The module holds
 * one flat string [context][4-byte trailer T][blob]: T is the context's length plus
 * 4, so the context starts T bytes before the blob, found PC-relatively at
 * every call (E.nativeCall recomputes the string's address at every call, so this
 * stays right after E.defrag() moves it). No address travels through JavaScript.
 *
 *   stub + 0   int():                   one step, x already in the context
 *   stub + 32  int(int, int, int, int): x[k] = (int8) argument k for k < min(H_INPUT_SIZE, 4), then one step
 *
 * Both return lstm_mcu_step's status. The kernel's entry (offset 0 of the blob) is
 * called with the context as its base and as its constants.
 */
  .syntax unified
  .thumb
  .section .stub, "ax", %progbits
  .p2align 4

  .global lstm_mcu_stub_step
  .type lstm_mcu_stub_step, %function
  .thumb_func
lstm_mcu_stub_step:
  ldr r0, .Lblob0            @ r0 = __blob_start - (.Lpc0 + 4)
.Lpc0:
  add r0, pc                 @ r0 = the blob (PC reads as .Lpc0 + 4)
  ldr r1, [r0, #-4]          @ T: the bytes from the context to the blob
  subs r0, r0, r1            @ r0 = the context
  mov r1, r0                 @ its constants are in it too
  b.w lstm_mcu_step
  .p2align 2
.Lblob0:
  .word __blob_start - (.Lpc0 + 4)

  .org 32
  .global lstm_mcu_stub_xstep
  .type lstm_mcu_stub_xstep, %function
  .thumb_func
lstm_mcu_stub_xstep:
  push {r4, r5, r6, lr}
  ldr r4, .Lblob1
.Lpc1:
  add r4, pc                 @ r4 = the blob
  ldr r5, [r4, #-4]
  subs r4, r4, r5            @ r4 = the context
  ldr r5, [r4, #56]          @ n = H_INPUT_SIZE (header word 14)
  ldr r6, [r4, #52]          @ H_INPUT_OFF (header word 13)
  add r6, r4                 @ r6 = x
  cmp r5, #1
  blt 1f
  strb r0, [r6]
  cmp r5, #2
  blt 1f
  strb r1, [r6, #1]
  cmp r5, #3
  blt 1f
  strb r2, [r6, #2]
  cmp r5, #4
  blt 1f
  strb r3, [r6, #3]
1:
  mov r0, r4
  mov r1, r4
  bl lstm_mcu_step
  pop {r4, r5, r6, pc}
  .p2align 2
.Lblob1:
  .word __blob_start - (.Lpc1 + 4)
  .org 96
