/* Interrupts: CLINT software and timer interrupts, priority, WFI wake-up, vectored mtvec, SSIP
   delegated to S-mode, mie/sie/mip views. (Sstc is in sstc.S.) */
#include "common.h"
#define CLINT 0x2000000
#define MTIMECMP (CLINT + 0x4000)
#define MTIME (CLINT + 0xbff8)
  .globl test_main
test_main:
  addi sp, sp, -16
  sd ra, 0(sp)
  la t0, m_irq
  csrw mtvec, t0
  li s0, CLINT
  li s1, MTIMECMP
  li t0, -1
  sd t0, 0(s1)
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
  PMP_ALLOW_ALL
  li t0, (1 << 1) | (1 << 5)
  csrw mideleg, t0
  la t0, s_irq
  csrw stvec, t0
  li t0, (1 << 1)
  csrs mie, t0
  csrs mip, t0
  csrr a0, mip; call print_hex
  ENTER_MODE(1, s_part)
s_part:
  csrr a0, sip; call print_hex
  csrr a0, sie; call print_hex
  csrsi sstatus, 2
  nop
  csrci sstatus, 2
  la t0, s_log; ld a0, 0(t0); call print_hex
  RESUME_M(m_back)
  ecall
m_back:
  li a0, 0
  ld ra, 0(sp)
  addi sp, sp, 16
  ret

/* M handler: log causes, silence the source */
  .align 2
m_irq:
  csrw mscratch, t0
  la t0, irq_save
  sd t1, 0(t0)
  sd t2, 8(t0)
  csrr t1, mcause
  bgez t1, m_exc
  la t0, irq_count
  ld t2, 0(t0)
  slli t2, t2, 3
  la t0, irq_log
  add t0, t0, t2
  sd t1, 0(t0)
  la t0, irq_count
  ld t2, 0(t0)
  addi t2, t2, 1
  sd t2, 0(t0)
  andi t1, t1, 0xff
  li t2, 3
  bne t1, t2, 1f
  li t0, CLINT
  sw zero, 0(t0)
  j 9f
1:li t0, MTIMECMP
  li t2, -1
  sd t2, 0(t0)
9:la t0, irq_save
  ld t1, 0(t0)
  ld t2, 8(t0)
  csrr t0, mscratch
  mret
m_exc:
  la t0, irq_save
  ld t1, 0(t0)
  ld t2, 8(t0)
  csrr t0, mscratch
  j default_trap

  .align 2
  .option push
  .option norvc
vec_table:
  .rept 3
  j vec_bad
  .endr
  j vec_msi
  .option pop
vec_bad:
  FAIL(50)
vec_msi:
  csrw mscratch, t0
  li t0, CLINT
  sw zero, 0(t0)
  li t0, 1
  la t1, vec_hit
  sd t0, 0(t1)
  csrr t0, mscratch
  mret

/* S handler */
  .align 2
s_irq:
  csrw sscratch, t0
  csrr t0, scause
  andi t0, t0, 0xff
  addi t0, t0, -1
  bnez t0, 1f
  li t0, 2
  csrc sip, t0
  csrr t0, scause
  la t1, s_log
  sd t0, 0(t1)
  j 2f
1:li t0, -1
  csrw stimecmp, t0
  csrr t0, scause
  la t1, s_log
  sd t0, 8(t1)
2:csrr t0, sscratch
  sret

  .data
  .align 3
irq_save: .dword 0, 0
irq_count: .dword 0
irq_log: .space 64
vec_hit: .dword 0
s_log: .dword 0, 0
