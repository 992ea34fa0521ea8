// feed(x): one sample of real readings (feature order). A bad reading is counted and the model does not step; returns true when it stepped.
function feed(x) {
  var i, v, ok = true, s;
  stats.samples++;
  for (i = 0; i < NI; i++) {
    // NaN fails both comparisons; a string or undefined fails typeof; a Number object reads as its value,
    // as Espruino (which has none) reads new Number(3): the same on every engine (NUMERICS.md §3)
    v = x[i];
    if (typeof v === "object" && v instanceof Number) v = +v;
    if (typeof v === "number" && v >= LO[i] && v <= HI[i]) X[i] = v; else ok = false;
  }
  if (!ok) {
    stats.bad++; stats.badRun++; stats.lastBad = true;
    // BREAK_RING
    if (stats.badRun >= MAXBAD) reset();
    return false;
  }
  stats.lastBad = false; stats.badRun = 0;
  // SCORE_BEFORE_STEP
  var y = model.step(X);
  for (i = 0; i < NO; i++) YL[i] = y[i];
  stats.steps++; stats.run++;
  // SCORE_AFTER_STEP
  stats.score = s;
  // an alert starts when the score rises above ALERT and ends when it falls back
  if (ALERT !== undefined && s > ALERT) {
    if (!stats.alerting) { stats.alerting = true; stats.alerts++; alert(s); }
  } else stats.alerting = false;
  return true;
}
