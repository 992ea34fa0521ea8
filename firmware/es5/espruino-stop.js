function stop() {
  if (timer !== undefined) clearInterval(timer);
  if (watch !== undefined) clearWatch(watch);
  timer = watch = undefined;
}
api = { start: start, stop: stop, reset: reset, feed: feed, sample: sample, verify: verify, stats: stats, outputs: YL, model: model, onAlert: undefined };
return api;
