/* sfence.vma with an address: after a PTE changes, flushing that page (or, for a superpage, any
   address inside it) makes the new translation visible; flushing another page does not disturb a
   valid translation. Runs in S-mode under Sv39. */
#include "common.h"
#define PTE_V 1
#define PTE_R 2
#define PTE_W 4
#define PTE_X 8
#define PTE_A 64
#define PTE_D 128
#define RWAD (PTE_V | PTE_R | PTE_W | PTE_A | PTE_D)
#define MKPTE(reg, label, flags) la reg, label; srli reg, reg, 12; slli reg, reg, 10; ori reg, reg, flags

  .globl test_main
test_main:
  addi sp, sp, -16
  sd ra, 0(sp)
  li t2, (0x80000 << 10) | PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D
  la t0, root
  sd t2, 16(t0)                   /* root[2]: identity gigapage for code, data, HTIF */
  MAP_IO(root)
  MKPTE(t2, l1, PTE_V)
  sd t2, 8(t0)                    /* root[1] -> l1 (VA 0x40000000) */
  MKPTE(t2, l0, PTE_V)
  la t0, l1
  sd t2, 0(t0)                    /* l1[0] -> l0 */
  MKPTE(t2, frame_a, RWAD)
  la t0, l0
  sd t2, 0(t0)                    /* 0x40000000 -> frame_a */
  MKPTE(t2, frame_a, RWAD)
  sd t2, 8(t0)                    /* 0x40001000 -> frame_a */
  /* l1[1]: 2 MiB superpage at 0x40200000 -> 0x80200000 (2 MiB aligned) */
  li t2, (0x80200 << 10) | RWAD
  la t0, l1
  sd t2, 8(t0)
  li t0, 0x80200000; li t1, 0xaaaa; sd t1, 0(t0)
  li t0, 0x80400000; li t1, 0xbbbb; sd t1, 0(t0)
  la t0, frame_a; li t1, 0x1111; sd t1, 0(t0)
  la t0, frame_b; li t1, 0x2222; sd t1, 0(t0)
  PMP_ALLOW_ALL
  SET_SATP(8, root)
  sfence.vma
  ENTER_MODE(1, s_main)
s_main:
  li s1, 0x40000000
  li s2, 0x40001000
  li s3, 0x40200000
  ld a0, 0(s1); call print_hex    /* 1111 */
  ld a0, 0(s2); call print_hex    /* 1111 */
  ld a0, 0(s3); call print_hex    /* aaaa */
  /* remap both 4 KiB pages to frame_b; flush only the first */
  MKPTE(t2, frame_b, RWAD)
  la t0, l0
  sd t2, 0(t0)
  sd t2, 8(t0)
  sfence.vma s1
  ld a0, 0(s1); call print_hex    /* 2222 */
  sfence.vma s2
  ld a0, 0(s2); call print_hex    /* 2222 */
  /* move the superpage to 0x80400000 and flush an address in its middle */
  li t2, (0x80400 << 10) | RWAD
  la t0, l1
  sd t2, 8(t0)
  li t0, 0x40234000
  sfence.vma t0
  ld a0, 0(s3); call print_hex    /* bbbb */
  /* unmap the first page, flush it: a load now page-faults (cause 13) */
  la t0, l0
  sd zero, 0(t0)
  sfence.vma s1
  RESUME_M(1f)
  ld a0, 0(s1)
1:PRINT_TRAP
  CHECK_TRAP(13, 1)
  csrw satp, zero
  ld ra, 0(sp)
  addi sp, sp, 16
  li a0, 0
  ret

  .section .bss
  .align 12
root: .space 4096
l1: .space 4096
l0: .space 4096
frame_a: .space 4096
frame_b: .space 4096
