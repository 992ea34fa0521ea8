#!/usr/bin/env bash
# Builds the native kernel (native/lstm-step.c) and the module's entry stub
# (native/entry-stub.S, the blob's last 96 bytes) into the two committed blobs:
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
  stub="$work/entry-stub-$cpu.o"
  elf="$work/lstm-step-$cpu.elf"
  "$cc" "${flags[@]}" -mcpu="cortex-$cpu" -c "$root/native/lstm-step.c" -o "$obj"
  "$cc" -mthumb -mcpu="cortex-$cpu" -c "$root/native/entry-stub.S" -o "$stub"
  # Position independence: the objects may hold only PC-relative relocations (calls, branches).
  bad="$(arm-none-eabi-readelf -rW "$obj" "$stub" | awk 'NR>3 && $3 ~ /^R_ARM_/ && $3 !~ /^R_ARM_(THM_CALL|THM_JUMP24|THM_JUMP19|THM_JUMP11|THM_JUMP8|REL32)$/ {print $3}' | sort -u)"
  if [ -n "$bad" ]; then echo "build-native: $cpu: relocations that are not PC-relative: $bad" >&2; exit 1; fi
  "$cc" "${flags[@]}" -mcpu="cortex-$cpu" -T "$root/native/blob.ld" -Wl,--no-undefined -Wl,--build-id=none "$obj" "$stub" -o "$elf"
  arm-none-eabi-objcopy -O binary -j .text "$elf" "$out/lstm-step-$cpu.bin"
  # The stub's entries are where the module calls them: 96 and 64 bytes before the blob's end.
  size="$(wc -c <"$out/lstm-step-$cpu.bin")"
  at="$(arm-none-eabi-nm "$elf" | awk '$3 == "lstm_mcu_stub_step" {print $1} $3 == "lstm_mcu_stub_xstep" {print $1}' | tr '\n' ' ')"
  want="$(printf '%08x %08x ' $((size - 96)) $((size - 64)))"
  if [ "$at" != "$want" ]; then echo "build-native: $cpu: the entry stub is at $at, not $want (the blob's last 96 bytes)" >&2; exit 1; fi
  echo "native/lstm-step-$cpu.bin: $(wc -c <"$out/lstm-step-$cpu.bin") bytes"
done
