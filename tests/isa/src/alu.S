/* RV64I and M: arithmetic, shifts, compares, W forms, lui/auipc, branches, jumps, mul/div corners. */
#include "common.h"
  .globl test_main
test_main:
  addi sp, sp, -16
  sd ra, 0(sp)
  li a5, 0x7fffffffffffffff
  addi a6, a5, 1          /* overflow wraps to INT64_MIN */
  CHECK(a6, 0x8000000000000000, 1)
  li t0, 0xffffffff
  addi t1, t0, 1          /* carry into the high word */
  CHECK(t1, 0x100000000, 2)
  li t0, -1
  li t1, 0x100000000
  sub t2, t0, t1          /* borrow */
  CHECK(t2, 0xfffffffeffffffff, 3)
  li t0, 0x80000000
  addiw t1, t0, 0         /* sign-extend from bit 31 */
  CHECK(t1, 0xffffffff80000000, 4)
  li t0, 0x123456789abcdef0
  slli t1, t0, 36
  CHECK(t1, 0xabcdef0000000000, 5)
  srli t1, t0, 36
  CHECK(t1, 0x0000000001234567, 6)
  li t0, 0x8000000000000010
  srai t1, t0, 4
  CHECK(t1, 0xf800000000000001, 7)
  li t2, 63
  sra t1, t0, t2
  CHECK(t1, -1, 8)
  sraiw t1, t0, 4
  CHECK(t1, 1, 9)
  li t0, 0x80000000
  sraw t1, t0, zero
  CHECK(t1, 0xffffffff80000000, 10)
  srliw t1, t0, 31
  CHECK(t1, 1, 11)
  li t0, -5
  li t1, 3
  slt t2, t0, t1
  CHECK(t2, 1, 12)
  sltu t2, t0, t1
  CHECK(t2, 0, 13)
  sltiu t2, t1, -1
  CHECK(t2, 1, 14)
  /* M extension */
  li t0, 0x123456789
  li t1, 0x987654321
  mul t2, t0, t1
  CHECK(t2, 0xd77d742cce1833a9, 15)
  mulhu t2, t0, t1
  CHECK(t2, 0xa, 16)
  li t0, -1
  li t1, -1
  mulh t2, t0, t1
  CHECK(t2, 0, 17)
  mulhu t2, t0, t1
  CHECK(t2, 0xfffffffffffffffe, 18)
  mulhsu t2, t0, t1
  CHECK(t2, -1, 19)
  li t0, 0x8000000000000000
  li t1, -1
  div t2, t0, t1
  CHECK(t2, 0x8000000000000000, 20)
  rem t2, t0, t1
  CHECK(t2, 0, 21)
  div t2, t0, zero
  CHECK(t2, -1, 22)
  rem t2, t0, zero
  CHECK(t2, 0x8000000000000000, 23)
  divu t2, t0, zero
  CHECK(t2, -1, 24)
  li t0, -7
  li t1, 2
  div t2, t0, t1
  CHECK(t2, -3, 25)
  rem t2, t0, t1
  CHECK(t2, -1, 26)
  li t0, 0xfedcba9876543210
  li t1, 0x12345
  divu t2, t0, t1
  CHECK(t2, 0xe0004fa01c4d, 27)
  remu t2, t0, t1
  PRINT(t2)
  li t0, 0x80000000
  li t1, -1
  divw t2, t0, t1
  CHECK(t2, 0xffffffff80000000, 28)
  remw t2, t0, t1
  CHECK(t2, 0, 29)
  divuw t2, t0, t1
  CHECK(t2, 0, 30)
  remuw t2, t0, zero
  CHECK(t2, 0xffffffff80000000, 31)
  li t0, 0x7fffffff
  mulw t2, t0, t0
  CHECK(t2, 1, 32)
  /* lui / auipc / jal / jalr */
  lui t0, 0x80000
  CHECK(t0, 0xffffffff80000000, 33)
1:auipc t0, 0
  la t1, 1b
  bne t0, t1, fail34
  jal t2, 2f
2:la t1, 2b
  bne t2, t1, fail35
  la t0, 3f
  addi t0, t0, 1          /* jalr clears bit 0 */
  jalr t1, 0(t0)
  j fail36
3:
  /* x0 stays zero */
  li zero, 5
  addi zero, zero, 1
  bnez zero, fail37
  /* branches, signed vs unsigned */
  li t0, -1
  li t1, 1
  bltu t0, t1, fail38
  bge t0, t1, fail38
  bgeu t1, t0, fail38
  /* the remaining shift/immediate forms */
  li t0, -3
  slti t1, t0, -2
  CHECK(t1, 1, 39)
  xori t1, t0, -1
  CHECK(t1, 2, 40)
  li t2, 68               /* shift amounts use the low 6 bits */
  li t0, 3
  sll t1, t0, t2
  CHECK(t1, 48, 41)
  li t0, 0x40000001
  slliw t1, t0, 1
  CHECK(t1, 0xffffffff80000002, 42)
  li t2, 33               /* W shifts use the low 5 bits */
  sllw t1, t0, t2
  CHECK(t1, 0xffffffff80000002, 43)
  li t0, 0xffffffff80000000
  srlw t1, t0, t2
  CHECK(t1, 0x40000000, 44)
  li t0, 0x1234
  PRINT(t0)
  li a0, 0
  ld ra, 0(sp)
  addi sp, sp, 16
  ret
fail34: FAIL(34)
fail35: FAIL(35)
fail36: FAIL(36)
fail37: FAIL(37)
fail38: FAIL(38)
