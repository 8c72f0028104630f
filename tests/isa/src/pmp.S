/* PMP: NA4, TOR and NAPOT entries checked from S-mode, priority of lower entries, partial matches,
   the lock bit (applies to M-mode, freezes the entry), CSR read-back. */
#include "common.h"
#define CFG(r, w, x, a, l) ((r) | ((w) << 1) | ((x) << 2) | ((a) << 3) | ((l) << 7))
  .globl test_main
test_main:
  addi sp, sp, -16
  sd ra, 0(sp)
  /* entry 0: NA4 over secret (no access) */
  la t0, secret
  srli t0, t0, 2
  csrw pmpaddr0, t0
  /* entries 1-2: TOR [ro, ro+64) read-only */
  la t0, ro
  srli t0, t0, 2
  csrw pmpaddr1, t0
  addi t0, t0, 16
  csrw pmpaddr2, t0
  /* entry 3: NAPOT over the 4 KiB page nx (read/write, no execute) */
  la t0, nx
  srli t0, t0, 2
  ori t0, t0, 0x1ff
  csrw pmpaddr3, t0
  li t0, (CFG(0,0,0,2,0)) | (CFG(0,0,0,0,0) << 8) | (CFG(1,0,0,1,0) << 16) | (CFG(1,1,0,3,0) << 24)
  csrw pmpcfg0, t0
  PMP_ALLOW_ALL
  csrr a0, pmpcfg0; call print_hex
  csrr a0, pmpaddr3; call print_hex
  csrr a0, pmpcfg2; call print_hex
  ENTER_MODE(1, s_code)
s_code:
  la s0, secret
  RESUME_AT(1f)
  lw a0, 0(s0)
1:PRINT_TRAP
  lw a0, 4(s0); call print_hex          /* next word: allowed by entry 15 */
  RESUME_AT(2f)
  ld a0, 0(s0)                          /* partial overlap with the NA4 entry: fault */
2:PRINT_TRAP
  la s1, ro
  ld a0, 8(s1); call print_hex
  RESUME_AT(3f)
  sd zero, 8(s1)
3:PRINT_TRAP
  la s2, nx
  li t0, 0x00008067                     /* ret */
  sw t0, 0(s2)
  lw a0, 0(s2); call print_hex
  RESUME_M(4f)
  jalr s2
4:PRINT_TRAP
  /* M-mode ignores unlocked entries */
  lw a0, 0(s0); call print_hex
  /* lock entry 0: now M-mode is denied too, and the entry cannot change */
  li t0, 0x80
  csrs pmpcfg0, t0
  RESUME_AT(5f)
  lw a0, 0(s0)
5:PRINT_TRAP
  csrw pmpaddr0, zero
  csrr a0, pmpaddr0; la t0, secret; srli t0, t0, 2; sub a0, a0, t0; call print_hex
  li t0, 0xff
  csrc pmpcfg0, t0
  csrr a0, pmpcfg0; call print_hex
  li a0, 0
  ld ra, 0(sp)
  addi sp, sp, 16
  ret
  .data
  .align 12
nx: .space 4096
  .align 6
secret: .word 0x5ec2e7, 0x600d
  .align 6
ro: .dword 0x1111, 0x2222, 0x3333, 0x4444, 0, 0, 0, 0
