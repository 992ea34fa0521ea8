// One flat string [context][T][kernel] where a kernel runs (T: 4 bytes, the context's length + 4, which the kernel's entry stub reads), else [context]; undefined where none can be made
function nativeFlat(context, cpu) {
  if (typeof E === "undefined" || typeof E.toFlatString !== "function") return undefined;
  context = atob(typeof context === "string" ? context : context.join(""));
  return cpu === "m4" || cpu === "m3" ? E.toFlatString(context, CONTEXT_TRAILER, atob(NATIVE_KERNELS[cpu])) : E.toFlatString(context);
}
// Checks CF is one 4-byte-aligned block; sets NK (the stub's int(): x already in the context) and NX (its int(x0, x1, x2, x3)), returns the path taken.
function nativeLoad(cpu) {
  var at = CF && E.getAddressOf(CF, true), stub = CONTEXT_BYTES + 4 + STUB_AT[cpu], step, s, i;
  if (!at || (at & 3)) return "js: no flat, 4-byte-aligned block of memory for the native kernel and context";
  step = E.nativeCall(stub + 1, "int()", CF);
  // One step on the zero state: the kernel returns 0 only where it reads the context's header (docs/NUMERICS.md)
  if (step() !== 0) return "js: the " + cpu + " kernel did not read its context";
  s = new Uint8Array(CB, STATE_OFF, STATE_BYTES);
  for (i = 0; i < STATE_BYTES; i++) s[i] = 0;
  NK = step;
  NX = E.nativeCall(stub + 33, "int(int,int,int,int)", CF);
  return cpu;
}
