#!/usr/bin/env bash
# Builds the native kernel (native/lstm-step.c) into the two committed blobs:
#   native/lstm-step-m4.bin  Cortex-M4/M33 with the DSP instructions (SXTB16, SMLAD)
#   native/lstm-step-m3.bin  Cortex-M3, plain C
# with Debian's gcc-arm-none-eabi. Usage: scripts/build-native.sh [output folder]
# (default: native/). test/native/blobs.test.ts rebuilds them and compares byte for byte.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/native}"
cc="${ARM_CC:-arm-none-eabi-gcc}"
for tool in "$cc" arm-none-eabi-objcopy arm-none-eabi-readelf; do
  command -v "$tool" >/dev/null 2>&1 || { echo "build-native: $tool not found (Debian: apt-get install gcc-arm-none-eabi)" >&2; exit 1; }
done
mkdir -p "$out"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# -fPIC: position independent; -fwrapv: defined overflow (asserted in the source);
# no libc, no builtins, no loops turned into memset/memcpy calls.
flags=(-std=c11 -O2 -mthumb -fPIC -fwrapv -fno-strict-aliasing -ffreestanding -fno-builtin
  -fno-tree-loop-distribute-patterns -fno-common -ffunction-sections -nostdlib
  -Wall -Wextra -Werror -Wshift-negative-value -Wconversion -Wno-sign-conversion)
for cpu in m4 m3; do
  obj="$work/lstm-step-$cpu.o"
  elf="$work/lstm-step-$cpu.elf"
  "$cc" "${flags[@]}" -mcpu="cortex-$cpu" -c "$root/native/lstm-step.c" -o "$obj"
  # Position independence: the object may hold only PC-relative relocations (calls, branches).
  bad="$(arm-none-eabi-readelf -rW "$obj" | awk 'NR>3 && $3 ~ /^R_ARM_/ && $3 !~ /^R_ARM_(THM_CALL|THM_JUMP24|THM_JUMP19|THM_JUMP11|THM_JUMP8|REL32)$/ {print $3}' | sort -u)"
  if [ -n "$bad" ]; then echo "build-native: $cpu: relocations that are not PC-relative: $bad" >&2; exit 1; fi
  "$cc" "${flags[@]}" -mcpu="cortex-$cpu" -T "$root/native/blob.ld" -Wl,--no-undefined -Wl,--build-id=none "$obj" -o "$elf"
  arm-none-eabi-objcopy -O binary -j .text "$elf" "$out/lstm-step-$cpu.bin"
  echo "native/lstm-step-$cpu.bin: $(wc -c <"$out/lstm-step-$cpu.bin") bytes"
done
