// The native step in a host that provides it (firmware/jerryscript/lstm_native.c): "host" where the host's
// lstmNativeStep steps the context CB, else why the JavaScript step runs ("js: ...")
function nativeHost() {
  if (typeof lstmNativeStep !== "function")
    return "js: the host has no lstmNativeStep function (firmware/jerryscript/HOST_API.md)";
  // One step on the zero state: the host returns 0 only where the kernel reads the context (its header and offsets)
  var status = lstmNativeStep(CB), s, i;
  if (status !== 0) return "js: the host's lstmNativeStep refused this module's context (status " + status + ")";
  s = new Uint8Array(CB, STATE_OFF, STATE_BYTES);
  for (i = 0; i < STATE_BYTES; i++) s[i] = 0;
  NK = lstmNativeStep;
  return "host";
}
