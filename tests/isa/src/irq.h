/*
 * Interrupt support shared by irq.S and sstc.S; include after common.h. Emits the handlers and their
 * data (like common.h) and defines:
 *   IRQ_SETUP           mtvec = m_irq, s0 = CLINT, s1 = MTIMECMP, the M timer off (mtimecmp = -1);
 *   SSIP_DELEGATED_TEST a software interrupt delegated to S-mode, taken there: prints mip, sip, sie
 *                       and the S handler's scause, and continues in M-mode (used once per program).
 * Handlers: m_irq logs each interrupt's mcause in irq_log (irq_count entries) and silences its source
 * (MSIP, or MTIMECMP = -1), passing exceptions to default_trap; vec_table is a vectored mtvec whose
 * MSI entry sets vec_hit; s_irq clears SSIP (scause in s_log[0]) or turns off stimecmp (s_log[1]).
 */
#define CLINT 0x2000000
#define MTIMECMP (CLINT + 0x4000)
#define MTIME (CLINT + 0xbff8)

.macro IRQ_SETUP
  la t0, m_irq
  csrw mtvec, t0
  li s0, CLINT
  li s1, MTIMECMP
  li t0, -1
  sd t0, 0(s1)
.endm

.macro SSIP_DELEGATED_TEST
  PMP_ALLOW_ALL
  li t0, (1 << 1) | (1 << 5)
  csrw mideleg, t0
  la t0, s_irq
  csrw stvec, t0
  li t0, (1 << 1)
  csrs mie, t0
  csrs mip, t0
  csrr a0, mip; call print_hex
  ENTER_MODE(1, ssip_s_part)
ssip_s_part:
  csrr a0, sip; call print_hex
  csrr a0, sie; call print_hex
  csrsi sstatus, 2
  nop
  csrci sstatus, 2
  la t0, s_log; ld a0, 0(t0); call print_hex
  RESUME_M(ssip_m_back)
  ecall
ssip_m_back:
.endm

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

  .text
