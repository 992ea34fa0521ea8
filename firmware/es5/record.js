// lstm-mcu record: sample every INTERVAL_MS ms and print one line per sample,
//   PREFIX,<sample number>,<ms since the first sample, by the board's clock>,<reading>,...*<CRC-32 of the text before the *, hex>
// ("-" for the CRC-32 where the firmware has no E.CRC32); a reader that throws stops the sampling with
//   ERROR_PREFIX,<sample number>,<the exception>
// and stop() (also after such an exception) ends it with END_PREFIX,<samples taken>.
if (typeof lstmRecord !== "undefined" && lstmRecord) lstmRecord.stop();
lstmRecord = (function () {
  var NI = CHANNELS, R = new Float64Array(NI), n = 0, t0 = 0, timer;
  // READ
  function check(s) {
    return typeof E !== "undefined" && E.CRC32 ? (E.CRC32(s) >>> 0).toString(16) : "-";
  }
  function sample() {
    var t = getTime(), s, i;
    if (n === 0) t0 = t;
    try {
      read();
    } catch (e) {
      print("ERROR_PREFIX," + n + "," + String(e).split("\n")[0]);
      stop();
      return;
    }
    s = "PREFIX," + n + "," + Math.round((t - t0) * 1000);
    for (i = 0; i < NI; i++) s += "," + R[i];
    n++;
    print(s + "*" + check(s));
  }
  function start() {
    if (timer !== undefined) return;
    // SENSORS_ON
    // STOP_ON_DISCONNECT
    timer = setInterval(sample, INTERVAL_MS);
  }
  function stop() {
    if (timer === undefined) return;
    clearInterval(timer);
    timer = undefined;
    // SENSORS_OFF
    // KEEP_ON_DISCONNECT
    print("END_PREFIX," + n);
  }
  // state(): [samples taken, sampling now]
  return { start: start, stop: stop, state: function () { return [n, timer !== undefined]; } };
})();
