#!/usr/bin/env bash
# Builds every guest program in programs/ into OUTDIR/NAME.elf: freestanding 64-bit C with the runtime, linked
# at fixed guest-physical addresses by runtime/guest.ld. Without gcc it says so and builds nothing (tests that need
# an image then skip, loudly); scripts/install-test-peers.sh installs gcc and binutils.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
OUT="${1:?usage: build.sh OUTDIR}"
CC="${CC:-gcc}"
if ! command -v "$CC" >/dev/null 2>&1 || ! command -v ld >/dev/null 2>&1; then
  echo "guest images: SKIPPED: $CC or ld not found (install gcc and binutils: scripts/install-test-peers.sh)" >&2
  exit 0
fi
mkdir -p "$OUT/obj"
CFLAGS=(-std=gnu11 -O2 -Wall -Wextra -Werror -ffreestanding -nostdlib -mgeneral-regs-only -mno-red-zone
        -fno-pic -fno-pie -fno-stack-protector -fno-asynchronous-unwind-tables -fcf-protection=none
        -mcmodel=small -m64)
"$CC" "${CFLAGS[@]}" -c "$HERE/runtime/entry.S" -o "$OUT/obj/entry.o"
"$CC" "${CFLAGS[@]}" -c "$HERE/runtime/runtime.c" -o "$OUT/obj/runtime.o"
"$CC" "${CFLAGS[@]}" -c "$HERE/runtime/interrupts.S" -o "$OUT/obj/runtime-interrupts.o"
built=()
for source in "$HERE"/programs/*.c; do
  name="$(basename "$source" .c)"
  "$CC" "${CFLAGS[@]}" -c "$source" -o "$OUT/obj/$name.o"
  ld -nostdlib -static -no-pie -z max-page-size=0x1000 -z noexecstack -T "$HERE/runtime/guest.ld" \
     -o "$OUT/$name.elf" "$OUT/obj/entry.o" "$OUT/obj/runtime.o" "$OUT/obj/runtime-interrupts.o" "$OUT/obj/$name.o"
  built+=("$name")
done
echo "guest images: built ${built[*]} in $OUT" >&2
