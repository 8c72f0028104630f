/* Fails on purpose (kept out of src/, so the "every program passes" specs do not run it): prints a
   line and exits with code 42, to compare the failure path (HTIF exit code on spike, the SiFive
   test finisher's FAIL on virt) between our engine and QEMU. */
#include "common.h"
  .globl test_main
test_main:
  addi sp, sp, -16
  sd ra, 0(sp)
  la a0, msg
  call print_str
  li a0, 42
  call print_hex
  li a0, 42
  ld ra, 0(sp)
  addi sp, sp, 16
  ret
  .data
msg: .string "exit code:\n"
