// ---- JerryScript: the host feeds readings; result() is reused by every call
var result = { stepped: false, outputs: YL, score: NaN, alert: false, bad: 0, classIndex: -1 };
// feedReadings(x): feed(x), then the result object (the same object every call)
function feedReadings(x) {
  result.stepped = feed(x);
  result.score = stats.score; result.alert = stats.alerting; result.bad = stats.bad;
  // CLASS_INDEX
  return result;
}
var api = { feed: feedReadings, reset: reset, verify: verify, stats: stats, outputs: YL, model: model, onAlert: undefined };
// alert(score): the host sets onAlert to hear of it
function alert(s) {
  if (typeof api.onAlert === "function") api.onAlert(s, YL);
}
return api;
