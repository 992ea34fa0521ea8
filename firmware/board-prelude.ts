/**
 * Board globals for engines that have none (guarded: Espruino keeps its own):
 * Modules and require (a module the bundle did not add is asked of the
 * engine's own require, e.g. the vm's Storage stand-in), timers, setWatch,
 * console. What the app test and `replay` put before a bundle.
 */
export const BOARD_PRELUDE = `
if (typeof console === "undefined") console = { log: function (s) { print(s); } };
if (typeof Modules === "undefined") {
  Modules = (function () {
    var made = {}, cache = {};
    return {
      addCached: function (name, f) { made[name] = f; },
      has: function (name) { return made[name] !== undefined; },
      load: function (name) {
        if (cache[name]) return cache[name];
        var saved = typeof exports === "undefined" ? undefined : exports;
        exports = {};
        made[name]();
        cache[name] = exports;
        exports = saved;
        return cache[name];
      }
    };
  })();
  require = (function (engines) {
    return function (name) { return Modules.has(name) || typeof engines !== "function" ? Modules.load(name) : engines(name); };
  })(typeof require === "undefined" ? undefined : require);
}
if (typeof setInterval === "undefined") { setInterval = function () { return 1; }; clearInterval = function () {}; }
if (typeof setWatch === "undefined") { setWatch = function () { return 1; }; clearWatch = function () {}; }
`;
