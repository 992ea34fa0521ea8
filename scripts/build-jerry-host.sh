#!/usr/bin/env bash
# Builds the JerryScript host with the native step for this computer: firmware/jerryscript/run_script.c,
# lstm_native.c (the global lstmNativeStep) and the kernel native/lstm-step.c (its plain-C path), against
# JerryScript 3.0. Usage: scripts/build-jerry-host.sh [output file] (default: ./run_script)
# With --app, the board app host instead: scripts/build-jerry-host.sh --app [folder] (default: .) writes there
#   lstm_app-native  firmware/jerryscript/lstm_app.c's demo main with lstmNativeStep (LSTM_APP_NATIVE, the kernel linked in)
#   lstm_app-js      the same without it (its bundle's model takes the JavaScript step)
#   JERRYSCRIPT_DIR  JerryScript 3.0 headers (include/) and static libraries (lib/ : libjerry-core.a,
#                    libjerry-port.a, libjerry-ext.a); default ../shared/engines/jerryscript-3.0 beside the repository
#   CC               the C compiler (default cc); the libraries there are GCC LTO objects: link with that GCC
# test/native/jerry-host.test.ts and test/firmware/jerry-app.test.ts build with it; firmware/jerryscript/HOST_API.md shows a board's build.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
jerry="${JERRYSCRIPT_DIR:-$root/../shared/engines/jerryscript-3.0}"
app=0
if [ "${1:-}" = "--app" ]; then
  app=1
  shift
fi
out="${1:-$([ "$app" = 1 ] && echo . || echo run_script)}"
cc="${CC:-cc}"
if [ ! -f "$jerry/include/jerryscript.h" ] || [ ! -f "$jerry/lib/libjerry-core.a" ]; then
  echo "build-jerry-host: no JerryScript 3.0 headers and libraries in $jerry (set JERRYSCRIPT_DIR)" >&2
  exit 1
fi
command -v "$cc" >/dev/null 2>&1 || { echo "build-jerry-host: C compiler $cc not found (set CC)" >&2; exit 1; }
# The kernel's flags (scripts/build-native.sh) for this CPU: -O2 and -fwrapv are asserted by the source.
flags=(-std=c11 -O2 -fwrapv -fno-strict-aliasing -Wall -Wextra -Werror -Wshift-negative-value -Wconversion -Wno-sign-conversion)
jerryscript="$root/firmware/jerryscript"
# -flto-partition=one: one link-time job (the libraries are LTO objects), without lto-wrapper's note about it.
link=(-flto-partition=one -L"$jerry/lib" -ljerry-ext -ljerry-core -ljerry-port -lm)
if [ "$app" = 0 ]; then
  "$cc" "${flags[@]}" -I"$root/native" -I"$jerry/include" \
    "$jerryscript/run_script.c" "$jerryscript/lstm_native.c" "$root/native/lstm-step.c" "${link[@]}" -o "$out"
  exit 0
fi
[ -d "$out" ] || { echo "build-jerry-host: --app $out: no such folder" >&2; exit 1; }
# The two links run side by side (each is seconds of link-time optimisation); either failing fails the script.
"$cc" "${flags[@]}" -DLSTM_APP_MAIN -DLSTM_APP_NATIVE -I"$root/native" -I"$jerry/include" \
  "$jerryscript/lstm_app.c" "$jerryscript/lstm_native.c" "$root/native/lstm-step.c" "${link[@]}" -o "$out/lstm_app-native" &
native=$!
"$cc" "${flags[@]}" -DLSTM_APP_MAIN -I"$jerry/include" "$jerryscript/lstm_app.c" "${link[@]}" -o "$out/lstm_app-js" &
js=$!
status=0
wait "$native" || status=1
wait "$js" || status=1
exit "$status"
