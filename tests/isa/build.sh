#!/bin/sh
# Build the ISA test programs (src/*.S, src/*.c) into a cache directory (not committed).
# Usage: tests/isa/build.sh [outdir]   (default: $ISA_CACHE or node_modules/.cache/vmstudio-isa)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-${ISA_CACHE:-$here/../../node_modules/.cache/vmstudio-isa}}
CC=${CROSS_CC:-riscv64-linux-gnu-gcc}
if ! command -v "$CC" >/dev/null 2>&1; then
  echo "build.sh: $CC not found (apt-get install gcc-riscv64-linux-gnu)" >&2
  exit 2
fi
mkdir -p "$out"
FLAGS="-march=rv64gc_zba_zbb_zbc_zbs -mabi=lp64d -mcmodel=medany -nostdlib -nostartfiles -static -fno-pie -no-pie \
  -ffreestanding -fno-builtin -O2 -Wl,--no-relax -Wl,--build-id=none -Wl,--no-warn-rwx-segments -T $here/src/link.ld -I $here/src"
for src in "$here"/src/*.S "$here"/src/*.c; do
  [ -e "$src" ] || continue
  name=$(basename "$src"); name=${name%.*}
  case "$src" in
    *.c) $CC $FLAGS -o "$out/$name.elf.$$" "$here/src/crt.S" "$src" ;;
    *) [ "$name" = crt ] && continue; $CC $FLAGS -o "$out/$name.elf.$$" "$src" ;;
  esac
  # atomic replace: concurrent test processes may be reading the previous build
  mv -f "$out/$name.elf.$$" "$out/$name.elf"
done
echo "$out"
