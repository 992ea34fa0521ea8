// the state of a fresh sequence: the model and the forecasts it made
function clear() {
  model.reset();
  // CLEAR_RING
  stats.badRun = 0; stats.run = 0; stats.score = NaN; stats.alerting = false;
}
// reset(): start a new sequence (the button, or the host)
function reset() {
  clear();
  stats.resets++;
}

// self-test: SELF_TEST_STEPS known int8 steps from a reset state; their head accumulator, joined with ","
function selfTest() {
  var KX = [KNOWN_INPUTS], XQ = new Int8Array(NI), t, i, y, s = "";
  model.reset();
  for (t = 0; t < SELF_TEST_STEPS; t++) {
    for (i = 0; i < NI; i++) XQ[i] = KX[t * NI + i];
    y = model.stepQ(XQ);
  }
  for (i = 0; i < y.length; i++) s += (i ? "," : "") + y[i];
  model.reset();
  return s;
}
var SELF = selfTest();
// verify(): "<CRC-32 of the model data held here> <self-test output>", compared by lstm-mcu flash with the host
function verify() {
  return model.checksum() + " " + SELF;
}
