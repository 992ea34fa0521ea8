// With weights in flash: the kernel runs from the Storage file WF, at its offset KO (flash is executable), and reads the
// context's constants there (its second argument); CB is the context's RAM part. Sets NK, returns the path taken.
function nativeFlashLoad(cpu) {
  var file = E.getAddressOf(WF, true), at = CB && E.getAddressOf(CB, true), step, s, i;
  // the file must be memory-mapped (not where Storage is external flash, as on Bangle.js 2)
  if (!file) return "js: the weights' Storage file is not memory-mapped on this board, so the kernel cannot read it";
  if (!at || (at & 3)) return "js: no flat, 4-byte-aligned block of memory for the native context";
  step = E.nativeCall(file + KO + 1, "int(int,int)");
  // One step on the zero state: the kernel returns 0 only where it reads the context's header (docs/NUMERICS.md)
  if (step(at, file) !== 0) return "js: the " + cpu + " kernel did not read its context";
  s = new Uint8Array(CB, STATE_OFF, STATE_BYTES);
  for (i = 0; i < STATE_BYTES; i++) s[i] = 0;
  NK = step;
  return cpu;
}
