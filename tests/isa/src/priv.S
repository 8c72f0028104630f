/* Privileged architecture: identification CSRs, traps and mtval, ecall/ebreak, M->S->U transitions,
   delegation, CSR privilege checks, counters and mcounteren, TW/TSR, mstatus bookkeeping. */
#include "common.h"
  .globl test_main
test_main:
  addi sp, sp, -16
  sd ra, 0(sp)
  csrr a0, misa
  andi a0, a0, ~0x80  /* QEMU's rv64 has H, which this engine does not implement */
  call print_hex
  csrr a0, mvendorid; call print_hex
  csrr a0, marchid;   call print_hex
  csrr a0, mimpid;    call print_hex
  csrr a0, mhartid;   call print_hex
  csrr a0, mstatus;   call print_hex
  /* illegal 32-bit (custom-0) and reserved compressed encodings */
  .4byte 0x0000000b
  PRINT_TRAP
  CHECK_TRAP(2, 1)
  .2byte 0x0004
  PRINT_TRAP
  .2byte 0x0000
  PRINT_TRAP
  /* nonexistent CSR, read-only CSR write */
  csrr t0, 0x7c0
  PRINT_TRAP
  CHECK_TRAP(2, 2)
  csrw mhartid, t0
  PRINT_TRAP
  CHECK_TRAP(2, 3)
  ecall
  CHECK_TRAP(11, 4)
  ebreak
  PRINT_TRAP
  CHECK_TRAP(3, 5)
  /* mstatus after a trap: MPP = M, MPIE = old MIE */
  csrr a0, mstatus; call print_hex
  /* WARL: mtvec mode 2/3 ignored, medeleg/mideleg masks */
  csrr s0, mtvec
  li t0, 0x80000003
  csrw mtvec, t0
  csrr a0, mtvec; call print_hex
  csrw mtvec, s0
  li t0, -1
  csrw medeleg, t0
  csrr a0, medeleg
  li t1, 0xfbff
  and a0, a0, t1      /* bit 10 and bits 16+ are hypervisor exceptions */
  call print_hex
  li t0, 0x222
  csrw mideleg, t0
  csrr a0, mideleg
  andi a0, a0, 0x333  /* drop QEMU's hard-wired hypervisor bits */
  call print_hex
  li t0, 0xaaa
  csrw mie, t0
  csrr a0, mie; call print_hex
  csrw mie, zero
  csrw medeleg, zero
  csrw mideleg, zero
  /* S-mode with PMP allowing everything */
  PMP_ALLOW_ALL
  la t0, s_trap
  csrw stvec, t0
  ENTER_MODE(1, in_s)
in_s:
  csrr a0, sstatus    /* S-mode CSR: fine */
  call print_hex
  RESUME_M(after_s_mstatus)
  csrr t0, mstatus    /* M-mode CSR from S: illegal, back to M */
  FAIL(6)
after_s_mstatus:
  CHECK_TRAP(2, 7)
  PRINT_TRAP
  la t4, trap_epc; ld t0, 0(t4); la t1, in_s; sub a0, t0, t1; call print_hex
  csrr a0, mstatus; call print_hex     /* MPP = S */
  /* counters from S: denied without mcounteren */
  csrw mcounteren, zero
  ENTER_MODE(1, s_cnt)
s_cnt:
  RESUME_M(after_cnt)
  rdcycle t0
  FAIL(8)
after_cnt:
  CHECK_TRAP(2, 9)
  li t0, 7
  csrw mcounteren, t0
  ENTER_MODE(1, s_cnt2)
s_cnt2:
  rdcycle t0
  rdinstret t1
  rdtime t2
  RESUME_M(after_cnt2)
  ecall
after_cnt2:
  CHECK_TRAP(9, 10)
  /* delegate U ecall to S; U-mode counters need scounteren too */
  li t0, (1 << 8)
  csrw medeleg, t0
  csrw scounteren, zero
  la t0, u_code
  csrw sepc, t0
  li t0, (1 << 8)
  csrc sstatus, t0     /* SPP = U */
  ENTER_MODE(1, s_to_u)
s_to_u:
  sret
u_code:
  rdcycle t0           /* illegal in U (scounteren = 0) -> M (not delegated) */
  ecall                /* delegated: to S handler, which returns to U */
  la t0, s_cause
  ld t1, 0(t0)
  li t2, 8
  bne t1, t2, u_fail
  RESUME_M(after_u)
  csrr t0, sstatus     /* S CSR from U: illegal, to M */
u_fail:
  FAIL(11)
after_u:
  CHECK_TRAP(2, 12)
  la t4, trap_tval; ld a0, 0(t4); call print_hex
  csrr a0, mstatus; call print_hex     /* MPP = U */
  la t0, s_cause; ld a0, 0(t0); call print_hex
  la t0, s_cause; ld a0, 8(t0); call print_hex
  /* TW: wfi in S traps */
  li t0, (1 << 21)
  csrs mstatus, t0
  ENTER_MODE(1, s_wfi)
s_wfi:
  RESUME_M(after_wfi)
  wfi
  FAIL(13)
after_wfi:
  CHECK_TRAP(2, 14)
  li t0, (1 << 21)
  csrc mstatus, t0
  /* TSR: sret in S traps */
  li t0, (1 << 22)
  csrs mstatus, t0
  ENTER_MODE(1, s_tsr)
s_tsr:
  RESUME_M(after_tsr)
  sret
  FAIL(15)
after_tsr:
  CHECK_TRAP(2, 16)
  li t0, (1 << 22)
  csrc mstatus, t0
  /* mret to U, then ecall from U (not delegated now) */
  csrw medeleg, zero
  ENTER_MODE(0, u2)
u2:
  RESUME_M(after_u2)
  ecall
after_u2:
  CHECK_TRAP(8, 17)
  /* minstret is writable (QEMU counts host ticks there, so the value itself is not compared) */
  csrw minstret, zero
  csrr t0, minstret
  /* fcsr: FS=off makes FP CSRs illegal */
  li t0, (3 << 13)
  csrc mstatus, t0
  csrr t0, fcsr
  CHECK_TRAP(2, 18)
  fadd.d f0, f1, f2
  PRINT_TRAP
  li t0, (1 << 13)
  csrs mstatus, t0
  csrr a0, mstatus; call print_hex     /* FS = initial */
  fmv.d.x f1, zero
  csrr a0, mstatus; call print_hex     /* FS = dirty, SD set */
  li a0, 0
  ld ra, 0(sp)
  addi sp, sp, 16
  ret

/* S-mode trap handler: record scause/stval/sepc and skip the instruction */
  .align 2
s_trap:
  csrw sscratch, t0
  la t0, s_cause
  sd t1, 24(t0)
  csrr t1, scause
  sd t1, 0(t0)
  csrr t1, stval
  sd t1, 8(t0)
  csrr t1, sepc
  sd t1, 16(t0)
  addi t1, t1, 4
  csrw sepc, t1
  ld t1, 24(t0)
  csrr t0, sscratch
  sret

  .data
  .align 3
s_cause: .dword 0, 0, 0, 0
