/*
 * Shared assembly support for the ISA tests: console and exit for the target machine, a default
 * M-mode trap handler, and CHECK macros. Every test:
 *   - starts in M-mode at _start (from crt in this file), calls `test_main`,
 *   - prints observations with PRINT_HEX (so runs on our engine and on QEMU can be compared),
 *   - fails with a distinct code through FAIL(n), or passes by returning 0 from test_main.
 * Registers s10/s11 are reserved for the harness (trap bookkeeping).
 *
 * Machine: by default `spike` (HTIF tohost/fromhost, QEMU's and spike's protocol). Built with
 * -DMACHINE_VIRT the same program runs on `virt`, which has no HTIF: the console is the NS16550A
 * UART and the exit goes through the SiFive test finisher (addresses from QEMU's hw/riscv/virt.c).
 */
#ifdef MACHINE_VIRT
#define UART0_BASE 0x10000000
#define UART_LSR 5             /* line status register; bit 5 = transmit holding register empty */
#define UART_LSR_THRE 0x20
#define FINISHER_BASE 0x100000
#define FINISHER_PASS 0x5555   /* power off: the emulator exits with status 0 */
#define FINISHER_FAIL 0x3333   /* with the code in bits 16-31: the emulator exits with that code */
#else
  .section .tohost, "aw", @progbits
  .align 6
  .globl tohost
tohost: .dword 0
  .size tohost, 8
  .align 6
  .globl fromhost
fromhost: .dword 0
  .size fromhost, 8
#endif

  .section .text.init, "ax", @progbits
  .globl _start
_start:
  la sp, stack_top
  la t0, default_trap
  csrw mtvec, t0
  /* enable FP so FP tests can run; tests that need FS=off clear it themselves */
  li t0, (1 << 13)
  csrs mstatus, t0
  csrwi fcsr, 0
  call test_main
  /* a0 = 0: pass; else fail code */
  j test_exit

#ifdef MACHINE_VIRT
/* test_exit(a0 = code): finisher = PASS if code is 0, else code << 16 | FAIL */
  .globl test_exit
test_exit:
  li t0, FINISHER_BASE
  li t1, FINISHER_PASS
  beqz a0, 1f
  slli t1, a0, 16
  li t2, FINISHER_FAIL
  or t1, t1, t2
1:sw t1, 0(t0)
2:j 2b

/* console_putc(a0) to the UART once it can take a byte; clobbers t0, t1 */
  .globl console_putc
console_putc:
  li t0, UART0_BASE
1:lbu t1, UART_LSR(t0)
  andi t1, t1, UART_LSR_THRE
  beqz t1, 1b
  sb a0, 0(t0)
  ret
#else
/* test_exit(a0 = code): tohost = code << 1 | 1 */
  .globl test_exit
test_exit:
  slli a0, a0, 1
  ori a0, a0, 1
  la t0, tohost
1:sd a0, 0(t0)
  j 1b

/* console_putc(a0) over the HTIF console; clobbers t0, t1 */
  .globl console_putc
console_putc:
  la t0, tohost
1:ld t1, 0(t0)
  bnez t1, 1b
  li t1, 0x0101
  slli t1, t1, 48
  or t1, t1, a0
  sd t1, 0(t0)
  ret
#endif

/* print_hex(a0): 16 hex digits and a newline; clobbers a0, a1, a2, t0-t2 */
  .globl print_hex
print_hex:
  addi sp, sp, -16
  sd ra, 0(sp)
  mv a1, a0
  li a2, 60
2:srl a0, a1, a2
  andi a0, a0, 15
  li t2, 10
  blt a0, t2, 3f
  addi a0, a0, 'a' - 10
  j 4f
3:addi a0, a0, '0'
4:call console_putc
  addi a2, a2, -4
  bgez a2, 2b
  li a0, '\n'
  call console_putc
  ld ra, 0(sp)
  addi sp, sp, 16
  ret

/* print_str(a0 = NUL-terminated string) */
  .globl print_str
print_str:
  addi sp, sp, -16
  sd ra, 0(sp)
  sd s0, 8(sp)
  mv s0, a0
5:lbu a0, 0(s0)
  beqz a0, 6f
  call console_putc
  addi s0, s0, 1
  j 5b
6:ld ra, 0(sp)
  ld s0, 8(sp)
  addi sp, sp, 16
  ret

/*
 * Default trap handler: records mcause/mtval/mepc in trap_cause/trap_tval/trap_epc, increments
 * trap_count, and resumes at trap_resume if non-zero (then clears it), else skips the faulting
 * instruction (2 or 4 bytes).
 */
  .align 2
  .globl default_trap
default_trap:
  csrw mscratch, t0
  la t0, trap_save
  sd t1, 0(t0)
  sd t2, 8(t0)
  csrr t1, mcause
  la t2, trap_cause
  sd t1, 0(t2)
  csrr t1, mtval
  sd t1, 8(t2)
  csrr t1, mepc
  sd t1, 16(t2)
  ld t1, 24(t2)
  addi t1, t1, 1
  sd t1, 24(t2)
  csrr t1, mcause
  bltz t1, 9f             /* interrupt: return to mepc */
  ld t1, 32(t2)           /* trap_resume (bit 0 set: resume in M-mode) */
  beqz t1, 7f
  sd zero, 32(t2)
  andi t2, t1, 1
  beqz t2, 6f
  andi t1, t1, -2
  li t2, (3 << 11)
  csrs mstatus, t2
6:csrw mepc, t1
  j 9f
7:csrr t1, mepc
  lhu t2, 0(t1)
  andi t2, t2, 3
  addi t1, t1, 2
  li t0, 3
  bne t2, t0, 8f
  addi t1, t1, 2
8:csrw mepc, t1
9:la t0, trap_save
  ld t1, 0(t0)
  ld t2, 8(t0)
  csrr t0, mscratch
  mret

  .section .data
  .align 3
  .globl trap_cause, trap_tval, trap_epc, trap_count, trap_resume
trap_cause: .dword 0
trap_tval: .dword 0
trap_epc: .dword 0
trap_count: .dword 0
trap_resume: .dword 0
trap_save: .dword 0, 0
  .section .bss
  .align 4
  .space 8192
  .globl stack_top
stack_top:

  .text

/* Helpers for tests */
#define PRINT(reg) mv a0, reg; call print_hex
#define CHECK(reg, val, code) li t3, val; beq reg, t3, 99f; li a0, code; j test_exit; 99:
#define FAIL(code) li a0, code; j test_exit
/* Expect the last trap to have cause `c` (clobbers t3, t4) */
#define CHECK_TRAP(c, code) la t4, trap_cause; ld t3, 0(t4); li t4, c; beq t3, t4, 98f; li a0, code; j test_exit; 98:
/* Arrange for the next trap to resume at label */
#define RESUME_AT(label) la t3, label; la t4, trap_resume; sd t3, 0(t4)
/* Same, but the trap handler returns in M-mode */
#define RESUME_M(label) la t3, label; ori t3, t3, 1; la t4, trap_resume; sd t3, 0(t4)
/* Print the last M-mode trap's cause, tval */
#define PRINT_TRAP la t4, trap_cause; ld a0, 0(t4); call print_hex; la t4, trap_cause; ld a0, 8(t4); call print_hex
/* PMP: allow everything to S/U (entry 15, NAPOT over the whole space) */
#define PMP_ALLOW_ALL li t3, -1; csrw pmpaddr15, t3; li t3, (0x1f << 56); csrw pmpcfg2, t3
/* satp = MODE `mode` (8 Sv39, 9 Sv48) with the root page table at `table` (clobbers t0, t1) */
#define SET_SATP(mode, table) la t0, table; srli t0, t0, 12; li t1, ((mode) << 60); or t0, t0, t1; csrw satp, t0
/* Physical address with no device on either machine (spike or virt): accesses raise access faults */
#define NO_DEVICE 0x18000000
/*
 * Sv39/Sv48 root table `table`: on virt, entry 0 identity-maps the first GiB (UART, test finisher,
 * CLINT) read/write, so S-mode code can print while paging is on (HTIF's words are in RAM, so spike
 * needs nothing). Clobbers t0, t1.
 */
#ifdef MACHINE_VIRT
#define MAP_IO(table) la t0, table; li t1, 0xc7; sd t1, 0(t0)
#else
#define MAP_IO(table)
#endif
/* Switch to privilege `mpp` (0 U, 1 S) continuing at label */
#define ENTER_MODE(mpp, label) li t3, (3 << 11); csrc mstatus, t3; li t3, ((mpp) << 11); csrs mstatus, t3; la t3, label; csrw mepc, t3; mret
