/*
 * Runs the kernel blob on bare-metal QEMU (mps2-an385 / mps2-an386, and with
 * -DRAM_AT=0x38000000 and mps2-an505.ld the mps2-an505) through semihosting,
 * from files in QEMU's working directory:
 *   blob.bin  the kernel, loaded at BLOB_AT (4-byte aligned, not 8: as a flat string may be)
 *   ctx.bin   the native context (quantize/native-context.ts), loaded at CONTEXT_AT
 *   in.bin    the int8 inputs, I bytes per step (I = the context's H_INPUT_SIZE)
 * The kernel reads the context's constant part (from H_TABLE_OFF to its end) from a copy
 * at CONSTANTS_AT, as a module with weights in flash has it; the context's own copy is
 * overwritten first, so a constant read through the wrong base changes the results.
 * It writes out.bin: after each step, the context's state block (H_STATE_OFF,
 * H_STATE_BYTES). Each call of the kernel is bracketed by the region markers of
 * ../shared/engines/qemu-count (mov r8,r8 / mov r9,r9) so the plugin counts it.
 * Exits 0 when every step returned STEP_OK, 1 otherwise.
 */
#include <stdint.h>
#include "../context.h"

/*
 * The board's data RAM, 4 MiB: on the AN385/AN386 its SSRAM2-3 at 0x20000000; on the AN505
 * (Cortex-M33, booted Secure) its SSRAM2-3 (0x28000000) through the Secure alias 0x38000000.
 * The stack grows down from CONTEXT_AT.
 */
#ifndef RAM_AT
#define RAM_AT 0x20000000u
#endif
#define BLOB_AT (RAM_AT + 0x80004u)
#define CONTEXT_AT (RAM_AT + 0x100000u)
#define CONSTANTS_AT (CONTEXT_AT + 0x100000u)
#define INPUTS_AT (RAM_AT + 0x300000u)

enum { SYS_OPEN = 0x01, SYS_WRITE = 0x05, SYS_READ = 0x06, SYS_FLEN = 0x0C, SYS_EXIT = 0x18 };
enum { EXIT_OK = 0x20026, EXIT_FAILED = 0x20023 };

static int32_t semihost(int32_t op, void *arg) {
  register int32_t r0 __asm__("r0") = op;
  register void *r1 __asm__("r1") = arg;
  __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

static int32_t length_of(const char *s) {
  int32_t n = 0;
  while (s[n]) n++;
  return n;
}

/* Opens a file of QEMU's working directory: mode 1 = "rb", 5 = "wb". */
static int32_t open_file(const char *name, int32_t mode) {
  int32_t args[3] = {(int32_t)name, mode, length_of(name)};
  return semihost(SYS_OPEN, args);
}

/* Reads a whole file to `to`; returns its length, or -1. */
static int32_t read_file(const char *name, void *to) {
  int32_t fd = open_file(name, 1);
  if (fd < 0) return -1;
  int32_t len = semihost(SYS_FLEN, &fd);
  int32_t args[3] = {fd, (int32_t)to, len};
  return semihost(SYS_READ, args) == 0 ? len : -1;
}

static void exit_with(int32_t reason) {
  semihost(SYS_EXIT, (void *)reason);
  for (;;) {
  }
}

int main(void) {
  uint8_t *ctx = (uint8_t *)CONTEXT_AT;
  const int8_t *inputs = (const int8_t *)INPUTS_AT;
  uint8_t *constants = (uint8_t *)CONSTANTS_AT;
  int32_t (*step)(uint8_t *, const uint8_t *) = (int32_t (*)(uint8_t *, const uint8_t *))(BLOB_AT | 1u);
  int32_t contextBytes = read_file("ctx.bin", ctx);
  if (read_file("blob.bin", (void *)BLOB_AT) <= 0 || contextBytes <= 0) exit_with(EXIT_FAILED);
  int32_t inputBytes = read_file("in.bin", (void *)INPUTS_AT);
  const int32_t *hd = (const int32_t *)ctx;
  for (int32_t i = hd[H_TABLE_OFF]; i < contextBytes; i++) {
    constants[i] = ctx[i];
    ctx[i] = 0xA5;
  }
  int32_t I = hd[H_INPUT_SIZE];
  int32_t out = open_file("out.bin", 5);
  if (inputBytes < 0 || I <= 0 || out < 0) exit_with(EXIT_FAILED);
  for (int32_t t = 0; t < inputBytes / I; t++) {
    int8_t *x = (int8_t *)(ctx + hd[H_INPUT_OFF]);
    for (int32_t i = 0; i < I; i++) x[i] = inputs[t * I + i];
    __asm__ volatile("mov r8, r8" ::: "memory");
    int32_t status = step(ctx, constants);
    __asm__ volatile("mov r9, r9" ::: "memory");
    int32_t args[3] = {out, (int32_t)(ctx + hd[H_STATE_OFF]), hd[H_STATE_BYTES]};
    if (status != STEP_OK || semihost(SYS_WRITE, args) != 0) exit_with(EXIT_FAILED);
  }
  exit_with(EXIT_OK);
  return 0;
}

/* The vector table: the initial stack pointer and the reset handler. */
extern void reset_handler(void);
__attribute__((section(".vectors"), used)) static const uint32_t vectors[2] = {CONTEXT_AT, (uint32_t)reset_handler};

void reset_handler(void) { exit_with(main() == 0 ? EXIT_OK : EXIT_FAILED); }
