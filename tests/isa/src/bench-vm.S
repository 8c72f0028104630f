/* Benchmark workload for the OS-like paths a Linux boot exercises: Sv39 paging with a U-mode
   program that touches NPAGES fresh pages per round, each mapped on demand by an S-mode page-fault
   handler (hardware A/D updates on first access), an "unmap all" system call with sfence.vma
   between rounds, then NCALLS trivial system calls. Prints a checksum. */
#include "common.h"
#ifndef NPAGES
#define NPAGES 1024
#endif
#ifndef ROUNDS
#define ROUNDS 24
#endif
#ifndef NCALLS
#define NCALLS 200000
#endif
#define UBASE 0x40000000
#define FRAMES 0x80800000
#define PTE_V 1
#define PTE_R 2
#define PTE_W 4
#define PTE_X 8
#define PTE_U 16
#define PTE_A 64
#define PTE_D 128
#define MKPTE(reg, label, flags) la reg, label; srli reg, reg, 12; slli reg, reg, 10; ori reg, reg, flags

  .globl test_main
test_main:
  /* root[2]: 1 GiB identity map of RAM for S-mode; root[3]: the same RAM at 0xc0000000 for U-mode
     code; root[1] -> l1 -> l0a, l0b: the demand-mapped user data at 0x40000000 (4 MiB) */
  li t2, (0x80000 << 10) | PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D
  la t0, root
  sd t2, 16(t0)
  li t2, (0x80000 << 10) | PTE_V | PTE_R | PTE_X | PTE_U | PTE_A   /* root[3]: the same RAM for U code */
  sd t2, 24(t0)
  MKPTE(t2, l1, PTE_V)
  sd t2, 8(t0)
  la t0, l1
  MKPTE(t2, l0a, PTE_V)
  sd t2, 0(t0)
  MKPTE(t2, l0b, PTE_V)
  sd t2, 8(t0)
  PMP_ALLOW_ALL
  li t0, (1 << 8) | (1 << 12) | (1 << 13) | (1 << 15)   /* U ecall and page faults go to S */
  csrw medeleg, t0
  la t0, s_trap
  csrw stvec, t0
  SET_SATP(8, root)
  sfence.vma
  ENTER_MODE(1, s_main)

s_main:
  la t0, s_save
  csrw sscratch, t0
  li t0, (1 << 8)
  csrc sstatus, t0                 /* SPP = U */
  la t0, u_main
  li t1, 0x40000000
  add t0, t0, t1                   /* u_main through the U alias */
  csrw sepc, t0
  sret

u_main:
  li s0, ROUNDS
  li s2, 0
1:li s1, 0
  li s3, UBASE
2:sd s1, 0(s3)                     /* first touch: page fault, mapped by s_trap */
  ld t0, 0(s3)
  add s2, s2, t0
  li t1, 4096
  add s3, s3, t1
  addi s1, s1, 1
  li t1, NPAGES
  bne s1, t1, 2b
  li a7, 1                         /* unmap everything */
  ecall
  addi s0, s0, -1
  bnez s0, 1b
  li s1, NCALLS
3:li a7, 2
  mv a0, s1
  ecall
  add s2, s2, a0
  addi s1, s1, -1
  bnez s1, 3b
  mv a0, s2
  li a7, 93                        /* print a0 and exit */
  ecall

  .align 2
s_trap:
  csrrw t6, sscratch, t6
  sd t0, 0(t6)
  sd t1, 8(t6)
  sd t2, 16(t6)
  csrr t0, scause
  li t1, 8
  beq t0, t1, s_ecall
  /* page fault: map the page of stval to frame (index % 1024), U|R|W, A/D left to the hardware */
  csrr t0, stval
  li t1, UBASE
  sub t0, t0, t1
  srli t0, t0, 12
  andi t2, t0, 1023
  slli t2, t2, 12
  li t1, FRAMES
  add t2, t2, t1
  srli t2, t2, 12
  slli t2, t2, 10
  ori t2, t2, PTE_V | PTE_R | PTE_W | PTE_U
  la t1, l0a
  slli t0, t0, 3
  add t1, t1, t0
  sd t2, 0(t1)
  csrr t0, stval
  sfence.vma t0                    /* one page, as Linux's local_flush_tlb_page */
  j s_ret
s_ecall:
  csrr t0, sepc
  addi t0, t0, 4
  csrw sepc, t0
  li t1, 1
  beq a7, t1, s_unmap
  li t1, 2
  beq a7, t1, s_inc
  call print_hex
  li a0, 0
  j test_exit
s_inc:
  slli t0, a0, 1
  add a0, a0, t0
  addi a0, a0, 1
  j s_ret
s_unmap:
  la t0, l0a
  li t1, NPAGES
4:sd zero, 0(t0)
  addi t0, t0, 8
  addi t1, t1, -1
  bnez t1, 4b
  sfence.vma
s_ret:
  ld t0, 0(t6)
  ld t1, 8(t6)
  ld t2, 16(t6)
  csrrw t6, sscratch, t6
  sret

  .section .bss
  .align 12
root: .space 4096
l1: .space 4096
l0a: .space 4096
l0b: .space 4096
s_save: .space 64
