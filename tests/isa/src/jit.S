/* Hazards for a translating CPU (QEMU's TCG has the same ones): code that is executed often enough
   to be translated and then overwritten (in another block, and in the running block itself), and
   exceptions in the middle of a hot block (registers written before the faulting instruction
   stay written, later ones do not, mepc/mtval name the faulting instruction). */
#include "common.h"
  .globl test_main
test_main:
  addi sp, sp, -16
  sd ra, 0(sp)

  /* 1. A hot function is patched, then called again: the new code runs. */
  li s0, 0
  li s1, 20
1:call patchme
  add s0, s0, a0
  addi s1, s1, -1
  bnez s1, 1b
  PRINT(s0)
  CHECK(s0, 20, 1)
  la t0, patchme
  la t1, new_insn
  lw t1, 0(t1)
  sw t1, 0(t0)
  fence.i
  call patchme
  mv s5, a0
  PRINT(s5)
  CHECK(s5, 100, 2)

  /* 2. A hot loop stores into its own next instruction on the last iteration (fence.i makes that
     defined; QEMU, without precise SMC on RISC-V, needs it, while this engine's store already
     ends the running block). */
  la s2, target
  la t1, new_insn2
  lw s3, 0(t1)
  li s1, 20
  li s0, 0
2:addi s1, s1, -1
  bnez s1, 3f
  sw s3, 0(s2)
  fence.i
3:
target:
  .option push
  .option norvc
  addi a1, zero, 1            /* becomes addi a1, zero, 7 */
  .option pop
  add s0, s0, a1
  bnez s1, 2b
  PRINT(s0)
  CHECK(s0, 26, 3)

  /* 3. A load access fault in the middle of a hot block, ten times. */
  li s1, 10
  li t6, NO_DEVICE
4:li a5, 0
  li a4, 5
  RESUME_AT(5f)
  addi a2, zero, 11
  addi a3, zero, 22
fault_ld:
  ld a4, 0(t6)
  addi a5, zero, 33
  j 6f
5:CHECK(a2, 11, 4)
  CHECK(a3, 22, 5)
  CHECK(a4, 5, 6)
  CHECK(a5, 0, 7)
  la t3, trap_epc; ld t3, 0(t3); la t4, fault_ld; bne t3, t4, 6f
  la t3, trap_tval; ld t3, 0(t3); bne t3, t6, 6f
  addi s1, s1, -1
  bnez s1, 4b
  j 7f
6:FAIL(8)
7:PRINT_TRAP

  /* 4. A store access fault and an illegal instruction in the middle of hot blocks. */
  li s1, 10
8:li a5, 0
  RESUME_AT(9f)
  addi a2, zero, 44
fault_sd:
  sd a2, 8(t6)
  addi a5, zero, 55
9:CHECK(a5, 0, 9)
  la t3, trap_epc; ld t3, 0(t3); la t4, fault_sd; beq t3, t4, 10f
  FAIL(10)
10:
  RESUME_AT(11f)
  addi a3, zero, 66
  .4byte 0x0000000b           /* custom-0: illegal */
  addi a5, zero, 77
11:CHECK(a3, 66, 11)
  CHECK(a5, 0, 12)
  addi s1, s1, -1
  bnez s1, 8b
  PRINT_TRAP

  /* 5. Calls and returns inside one page, and a 64-bit loop with carries. */
  li s0, 0
  li s1, 300
  li s4, -1
  srli s4, s4, 1              /* 0x7fff_ffff_ffff_ffff */
12:mv a0, s1
  call mix
  add s0, s0, a0
  add s4, s4, a0              /* carries into the high word */
  addi s1, s1, -1
  bnez s1, 12b
  PRINT(s0)
  PRINT(s4)

  /* 6. A hot loop whose body crosses a page boundary inside a 4-byte instruction (not translatable:
     the code after it starts a new block) and writes a CSR mid-block (which ends a translated
     block): the results are the same whichever parts run translated. */
  li s0, 0
  li s1, 500
  j 13f
  .balign 4096
  .skip 4086
  .option push
  .option norvc
13:addi s0, s0, 3             /* page offset 0xff6 */
  csrw mscratch, s0           /* 0xffa */
  addi s0, s0, 5              /* 0xffe: straddles into the next page */
  csrw mie, zero
  addi s0, s0, 7
  addi s1, s1, -1
  bnez s1, 13b
  .option pop
  csrr t0, mscratch
  PRINT(s0)
  PRINT(t0)
  CHECK(s0, 7500, 13)

  ld ra, 0(sp)
  addi sp, sp, 16
  li a0, 0
  ret

  .option push
  .option norvc               /* patched words are 32-bit instructions */
patchme:
  addi a0, zero, 1            /* becomes addi a0, zero, 100 */
  .option pop
  ret

/* a0 = (a0 * 0x9e3779b97f4a7c15) >> 7 xor a0 */
mix:
  li t0, 0x9e3779b97f4a7c15
  mul t1, a0, t0
  srli t1, t1, 7
  xor a0, a0, t1
  ret

  .section .data
  .align 2
  .option push
  .option norvc
new_insn: addi a0, zero, 100
new_insn2: addi a1, zero, 7
  .option pop
