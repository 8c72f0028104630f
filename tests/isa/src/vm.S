/* Sv39/Sv48 paging from S-mode: gigapage identity map, 4 KiB pages, hardware A/D updates, U/SUM,
   X/MXR, read-only stores, non-canonical addresses, misaligned superpages, sfence.vma, satp WARL. */
#include "common.h"
#define PTE_V 1
#define PTE_R 2
#define PTE_W 4
#define PTE_X 8
#define PTE_U 16
#define PTE_A 64
#define PTE_D 128
/* t0 = table, t1 = index, t2 = pte */
#define SET_PTE(table, idx, pte) la t0, table; li t1, (idx) * 8; add t0, t0, t1; sd pte, 0(t0)
/* pte for physical label with flags into reg */
#define MKPTE(reg, label, flags) la reg, label; srli reg, reg, 12; slli reg, reg, 10; ori reg, reg, flags

  .globl test_main
test_main:
  addi sp, sp, -16
  sd ra, 0(sp)
  /* root[2]: 1 GiB identity map of 0x80000000 (RWX, A, D) */
  li t2, (0x80000 << 10) | PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D
  SET_PTE(root, 2, t2)
  MAP_IO(root)
  /* root[1] -> l1; l1[0] -> l0 (VA 0x40000000..) */
  MKPTE(t2, l1, PTE_V)
  SET_PTE(root, 1, t2)
  MKPTE(t2, l0, PTE_V)
  SET_PTE(l1, 0, t2)
  MKPTE(t2, page0, PTE_V | PTE_R | PTE_W)           /* 0x40000000: RW, A/D clear */
  SET_PTE(l0, 0, t2)
  MKPTE(t2, page1, PTE_V | PTE_R | PTE_W | PTE_U | PTE_A | PTE_D)   /* 0x40001000: user page */
  SET_PTE(l0, 1, t2)
  MKPTE(t2, page2, PTE_V | PTE_X | PTE_A)           /* 0x40002000: execute-only */
  SET_PTE(l0, 2, t2)
  MKPTE(t2, page3, PTE_V | PTE_R | PTE_A)           /* 0x40003000: read-only */
  SET_PTE(l0, 3, t2)
  /* l1[1]: 2 MiB leaf with a misaligned PPN -> page fault at 0x40200000 */
  MKPTE(t2, page0, PTE_V | PTE_R | PTE_A)
  SET_PTE(l1, 1, t2)
  /* the data pages hold recognisable values */
  la t0, page0; li t1, 0x1111; sd t1, 0(t0)
  la t0, page1; li t1, 0x2222; sd t1, 0(t0)
  la t0, page2; li t1, 0x3333; sd t1, 0(t0)
  la t0, page3; li t1, 0x4444; sd t1, 0(t0)
  PMP_ALLOW_ALL
  /* satp: unsupported mode 1 is ignored */
  li t0, (1 << 60)
  csrw satp, t0
  csrr a0, satp; call print_hex
  SET_SATP(8, root)
  csrr a0, satp; srli a0, a0, 60; call print_hex
  sfence.vma
  ENTER_MODE(1, s_main)
s_main:
  li s1, 0x40000000
  ld a0, 0(s1); call print_hex                /* 0x1111, sets A */
  la t0, l0; ld a0, 0(t0); andi a0, a0, 0xff; call print_hex
  li t1, 0x5555
  sd t1, 8(s1)                                /* sets D */
  la t0, l0; ld a0, 0(t0); andi a0, a0, 0xff; call print_hex
  /* user page without SUM: load page fault */
  li s2, 0x40001000
  RESUME_AT(1f)
  ld a0, 0(s2)
1:PRINT_TRAP
  li t0, (1 << 18)
  csrs sstatus, t0                            /* SUM */
  ld a0, 0(s2); call print_hex
  li t0, (1 << 18)
  csrc sstatus, t0
  /* execute-only page: load faults unless MXR */
  li s3, 0x40002000
  RESUME_AT(2f)
  ld a0, 0(s3)
2:PRINT_TRAP
  li t0, (1 << 19)
  csrs sstatus, t0                            /* MXR */
  ld a0, 0(s3); call print_hex
  li t0, (1 << 19)
  csrc sstatus, t0
  /* store to a read-only page */
  li s4, 0x40003008
  RESUME_AT(3f)
  sd zero, 0(s4)
3:PRINT_TRAP
  /* fetch from a non-executable page: instruction page fault */
  RESUME_M(4f)
  jalr s1
4:PRINT_TRAP
  ENTER_MODE(1, s_more)
s_more:
  /* non-canonical address */
  li s5, 0x0000008000000000
  RESUME_AT(5f)
  ld a0, 0(s5)
5:PRINT_TRAP
  /* misaligned superpage */
  li s6, 0x40200000
  RESUME_AT(6f)
  ld a0, 0(s6)
6:PRINT_TRAP
  /* remap 0x40000000 to page3 and sfence */
  MKPTE(t2, page3, PTE_V | PTE_R | PTE_A)
  SET_PTE(l0, 0, t2)
  sfence.vma s1, zero
  ld a0, 0(s1); call print_hex                /* 0x4444 */
  /* a misaligned load crossing into an unmapped page faults with the page address */
  li s7, 0x40003ffc
  RESUME_AT(7f)
  ld a0, 0(s7)
7:PRINT_TRAP
  RESUME_M(8f)
  ecall
8:
  /* Sv48: new root whose entry 0 points at the Sv39 root (same mappings below 512 GiB) */
  MKPTE(t2, root, PTE_V)
  SET_PTE(root48, 0, t2)
  SET_SATP(9, root48)
  sfence.vma
  csrr a0, satp; srli a0, a0, 60; call print_hex
  ENTER_MODE(1, s_48)
s_48:
  li s1, 0x40001000
  li t0, (1 << 18)
  csrs sstatus, t0
  ld a0, 0(s1); call print_hex
  li s5, 0x0000800000000000                   /* non-canonical for Sv48 */
  RESUME_AT(9f)
  ld a0, 0(s5)
9:PRINT_TRAP
  RESUME_M(10f)
  ecall
10:
  csrw satp, zero
  li a0, 0
  ld ra, 0(sp)
  addi sp, sp, 16
  ret

  .data
  .align 12
root: .space 4096
root48: .space 4096
l1: .space 4096
l0: .space 4096
page0: .space 4096
page1: .space 4096
page2: .space 4096
page3: .space 4096
