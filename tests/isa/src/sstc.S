/* Sstc: stimecmp raises STIP (delegated to S) once menvcfg.STCE is set; WFI wakes on it.
   QEMU 7.2's spike machine never fires this timer, so the spike differential spec skips this
   program; on virt it is compared with QEMU (isa-virt.spec.ts). */
#include "common.h"
#include "irq.h"
  .globl test_main
test_main:
  addi sp, sp, -16
  sd ra, 0(sp)
  IRQ_SETUP
  /* S-mode software interrupt, delegated */
  SSIP_DELEGATED_TEST
  /* Sstc: stimecmp drives STIP once menvcfg.STCE is set */
  li t0, 1
  slli t0, t0, 63
  csrs menvcfg, t0
  li t0, 2
  csrs mcounteren, t0
  li t0, -1
  csrw stimecmp, t0
  li t0, (1 << 5)
  csrs mie, t0
  ENTER_MODE(1, s_timer)
s_timer:
  csrr t0, time
  addi t0, t0, 500
  csrw stimecmp, t0
  /* wait with SIE clear (WFI still wakes on the enabled STIP), then take the interrupt: with SIE
     set, an interrupt taken just before the WFI would leave it sleeping for good */
2:wfi
  csrr t1, sip; andi t1, t1, (1 << 5); beqz t1, 2b
  csrsi sstatus, 2
  nop
  csrci sstatus, 2
  la t0, s_log; ld a0, 8(t0); call print_hex
  csrr a0, sip; call print_hex
  RESUME_M(m_end)
  ecall
m_end:
  li a0, 0
  ld ra, 0(sp)
  addi sp, sp, 16
  ret
