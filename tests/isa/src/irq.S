/* Interrupts: CLINT software and timer interrupts, priority, WFI wake-up, vectored mtvec, SSIP
   delegated to S-mode, mie/sie/mip views. (Sstc is in sstc.S.) */
#include "common.h"
#include "irq.h"
  .globl test_main
test_main:
  addi sp, sp, -16
  sd ra, 0(sp)
  IRQ_SETUP
  /* software interrupt: pending shows in mip, taken once MIE is set */
  li t0, 1
  sw t0, 0(s0)
  csrr a0, mip; call print_hex
  li t0, (1 << 3)
  csrs mie, t0
  csrsi mstatus, 8
  nop
  csrci mstatus, 8
  la t0, irq_log; ld a0, 0(t0); call print_hex
  /* timer interrupt via WFI */
  li t0, MTIME
  ld t1, 0(t0)
  addi t1, t1, 500
  sd t1, 0(s1)
  li t0, (1 << 7)
  csrs mie, t0
1:wfi                 /* wakes on a pending enabled interrupt even with MIE clear */
  csrr t1, mip; andi t1, t1, 0x80; beqz t1, 1b
  csrsi mstatus, 8
  nop
  csrci mstatus, 8
  la t0, irq_log; ld a0, 8(t0); call print_hex
  /* priority: MSI before MTI when both become enabled together */
  csrw mie, zero
  li t0, 1
  sw t0, 0(s0)
  sd zero, 0(s1)
  li t0, (1 << 3) | (1 << 7)
  csrs mie, t0
  csrsi mstatus, 8
  nop
  nop
  csrci mstatus, 8
  la t0, irq_log; ld a0, 16(t0); call print_hex
  la t0, irq_log; ld a0, 24(t0); call print_hex
  csrw mie, zero
  /* vectored mode: handler at base + 4*cause */
  la t0, vec_table
  ori t0, t0, 1
  csrw mtvec, t0
  li t0, 1
  sw t0, 0(s0)
  li t0, (1 << 3)
  csrs mie, t0
  csrsi mstatus, 8
  nop
  csrci mstatus, 8
  la t0, vec_hit; ld a0, 0(t0); call print_hex
  la t0, m_irq
  csrw mtvec, t0
  csrw mie, zero
  /* S-mode software interrupt, delegated */
  SSIP_DELEGATED_TEST
  li a0, 0
  ld ra, 0(sp)
  addi sp, sp, 16
  ret
