#!/bin/sh
# Build the ISA test programs (src/*.S, src/*.c) into a cache directory (not committed):
#   outdir/NAME.elf       for `-M spike` (HTIF console and exit),
#   outdir/virt/NAME.elf  for `-M virt` (-DMACHINE_VIRT: UART console, SiFive test finisher exit);
#                         the bench-* programs are built for spike only;
#   outdir/exit/fail.elf, outdir/virt/exit/fail.elf   from src/exit/fail.S (fails on purpose).
# Usage: tests/isa/build.sh [outdir]   (default: $ISA_CACHE or node_modules/.cache/vmstudio-isa)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-${ISA_CACHE:-$here/../../node_modules/.cache/vmstudio-isa}}
CC=${CROSS_CC:-riscv64-linux-gnu-gcc}
if ! command -v "$CC" >/dev/null 2>&1; then
  echo "build.sh: $CC not found (apt-get install gcc-riscv64-linux-gnu)" >&2
  exit 2
fi
mkdir -p "$out/exit" "$out/virt/exit"
FLAGS="-march=rv64gc_zba_zbb_zbc_zbs -mabi=lp64d -mcmodel=medany -nostdlib -nostartfiles -static -fno-pie -no-pie \
  -ffreestanding -fno-builtin -O2 -Wl,--no-relax -Wl,--build-id=none -Wl,--no-warn-rwx-segments -T $here/src/link.ld -I $here/src"
# build DIR NAME SRC [CFLAGS...]: compile one program, replacing DIR/NAME.elf atomically
# (concurrent test processes may be reading the previous build)
build() {
  dir=$1 name=$2 src=$3
  shift 3
  case "$src" in
    *.c) $CC $FLAGS "$@" -o "$dir/$name.elf.$$" "$here/src/crt.S" "$src" ;;
    *) $CC $FLAGS "$@" -o "$dir/$name.elf.$$" "$src" ;;
  esac
  mv -f "$dir/$name.elf.$$" "$dir/$name.elf"
}
for src in "$here"/src/*.S "$here"/src/*.c; do
  [ -e "$src" ] || continue
  name=$(basename "$src"); name=${name%.*}
  [ "$name" = crt ] && continue
  build "$out" "$name" "$src"
  case "$name" in bench-*) ;; *) build "$out/virt" "$name" "$src" -DMACHINE_VIRT ;; esac
done
build "$out/exit" fail "$here/src/exit/fail.S"
build "$out/virt/exit" fail "$here/src/exit/fail.S" -DMACHINE_VIRT
echo "$out"
