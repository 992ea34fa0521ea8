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
