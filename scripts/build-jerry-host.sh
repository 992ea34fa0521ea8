#!/usr/bin/env bash
# Builds the JerryScript host with the native step for this computer: firmware/jerryscript/run_script.c,
# lstm_native.c (the global lstmNativeStep) and the kernel native/lstm-step.c (its plain-C path), against
# JerryScript 3.0. Usage: scripts/build-jerry-host.sh [output file] (default: ./run_script)
#   JERRYSCRIPT_DIR  JerryScript 3.0 headers (include/) and static libraries (lib/ : libjerry-core.a,
#                    libjerry-port.a, libjerry-ext.a); default ../shared/engines/jerryscript-3.0 beside the repository
#   CC               the C compiler (default cc); the libraries there are GCC LTO objects: link with that GCC
# test/native/jerry-host.test.ts builds with it; firmware/jerryscript/HOST_API.md shows a board's build.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
jerry="${JERRYSCRIPT_DIR:-$root/../shared/engines/jerryscript-3.0}"
out="${1:-run_script}"
cc="${CC:-cc}"
if [ ! -f "$jerry/include/jerryscript.h" ] || [ ! -f "$jerry/lib/libjerry-core.a" ]; then
  echo "build-jerry-host: no JerryScript 3.0 headers and libraries in $jerry (set JERRYSCRIPT_DIR)" >&2
  exit 1
fi
command -v "$cc" >/dev/null 2>&1 || { echo "build-jerry-host: C compiler $cc not found (set CC)" >&2; exit 1; }
# The kernel's flags (scripts/build-native.sh) for this CPU: -O2 and -fwrapv are asserted by the source.
flags=(-std=c11 -O2 -fwrapv -fno-strict-aliasing -Wall -Wextra -Werror -Wshift-negative-value -Wconversion -Wno-sign-conversion)
# -flto-partition=one: one link-time job (the libraries are LTO objects), without lto-wrapper's note about it.
"$cc" "${flags[@]}" -I"$root/native" -I"$jerry/include" \
  "$root/firmware/jerryscript/run_script.c" "$root/firmware/jerryscript/lstm_native.c" "$root/native/lstm-step.c" \
  -flto-partition=one -L"$jerry/lib" -ljerry-ext -ljerry-core -ljerry-port -lm -o "$out"
