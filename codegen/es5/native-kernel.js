// The native step (native/lstm-step.c): "m4" or "m3" where this board's CPU runs one of the kernels held here, else why not ("js: ...")
function nativeCpu(kernels) {
  if (typeof E === "undefined" || typeof E.nativeCall !== "function" || typeof E.toFlatString !== "function")
    return "js: E.nativeCall is missing (not Espruino, or a board built without it)";
  // process.env.BOARD: Espruino's board name (tests running on a Linux build set a global process.env of their own)
  var env = process.env, board = env.BOARD, cpus = BOARD_CPUS, cpu = cpus.hasOwnProperty(board) ? cpus[board] : undefined;
  // The Web IDE's emulator (the firmware compiled to WebAssembly) names the board but runs no Thumb-2 code
  if (env.EMULATED) return "js: board " + board + " is emulated (process.env.EMULATED), which runs no Thumb-2 code";
  if (!cpu) return "js: board " + board + " is not a Cortex-M3/M4 board the kernel is built for";
  if (!kernels[cpu]) return "js: board " + board + " runs the " + cpu + " kernel, which this module does not hold (codegen --native)";
  return cpu;
}
// Given the kernel as a native function (undefined: no flat string for it), checks the context CB is one
// 4-byte-aligned block and the kernel steps it; sets NK, returns the path taken.
// The kernel's second argument: the address of the context's constant part (0: CB holds it).
function nativeLoad(cpu, kernelCall) {
  var at = E.getAddressOf(CB, true), s, i;
  if (!kernelCall || !at || (at & 3)) return "js: no flat, 4-byte-aligned block of memory for the native kernel and context";
  // One step on the zero state: the kernel returns 0 only where it reads the context's header (docs/NUMERICS.md)
  if (kernelCall(at, CONSTANTS) !== 0) return "js: the " + cpu + " kernel did not read its context";
  s = new Uint8Array(CB, STATE_OFF, STATE_BYTES);
  for (i = 0; i < STATE_BYTES; i++) s[i] = 0;
  NK = kernelCall;
  return cpu;
}
