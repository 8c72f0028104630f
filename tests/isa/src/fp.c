/*
 * F and D: every arithmetic, conversion, compare, sign-injection, classify and move instruction over
 * a table of special and ordinary operands, in all five rounding modes (dynamic via frm and static
 * in the encoding). Each (instruction, mode) prints a hash of all results and fflags, so the
 * differential spec compares this engine with QEMU's softfloat bit for bit.
 */
#include "rt.h"

void *memset(void *d, int c, unsigned long n) { unsigned char *p = d; while (n--) *p++ = (unsigned char)c; return d; }
void *memcpy(void *d, const void *s, unsigned long n) { unsigned char *p = d; const unsigned char *q = s; while (n--) *p++ = *q++; return d; }

static u64 hash;
static void mix(u64 v) { hash = (hash ^ v) * 0x100000001b3UL + 0x9e3779b97f4a7c15UL; }
static void set_frm(u64 rm) { __asm__ volatile("fsrm %0" ::"r"(rm)); }
static u64 flags(void) { u64 f; __asm__ volatile("csrrw %0, fflags, zero" : "=r"(f)); return f; }

static const u64 D[] = {
  0x0000000000000000, 0x8000000000000000, 0x3ff0000000000000, 0xbff0000000000000, 0x3fd5555555555555,
  0x3fb999999999999a, 0x7fefffffffffffff, 0xffefffffffffffff, 0x0000000000000001, 0x0010000000000000,
  0x0018000000000000, 0x000fffffffffffff, 0x7ff0000000000000, 0xfff0000000000000, 0x7ff8000000000000,
  0x7ff4000000000000, 0x4008000000000000, 0x4340000000000001, 0x43e0000000000000, 0xc3e0000000000000,
  0x41f0000000008000, 0xbfe0000000000000, 0x3ff8000000000000, 0x4004000000000000, 0x43f0000000000000,
  0xc1e0000000200000, 0x41dfffffffc00000, 0x3ff0000000000001,
};
static const u32 S[] = {
  0x00000000, 0x80000000, 0x3f800000, 0xbf800000, 0x3eaaaaab, 0x3dcccccd, 0x7f7fffff, 0xff7fffff,
  0x00000001, 0x00800000, 0x00c00000, 0x007fffff, 0x7f800000, 0xff800000, 0x7fc00000, 0x7fa00000,
  0x40400000, 0x4b800001, 0x5f000000, 0xdf000000, 0x4f800000, 0xbf000000, 0x3fc00000, 0x40200000,
  0x3f800001, 0xcf000001,
};
#define ND (sizeof(D) / sizeof(D[0]))
#define NS (sizeof(S) / sizeof(S[0]))

/* binary ops on doubles / singles */
#define BIN_D(fn, insn) static u64 fn(u64 a, u64 b) { u64 r; __asm__ volatile( \
  "fmv.d.x ft0, %1\n fmv.d.x ft1, %2\n " insn " ft2, ft0, ft1\n fmv.x.d %0, ft2" : "=r"(r) : "r"(a), "r"(b) : "ft0", "ft1", "ft2"); return r; }
#define BIN_S(fn, insn) static u64 fn(u64 a, u64 b) { u64 r; __asm__ volatile( \
  "fmv.w.x ft0, %1\n fmv.w.x ft1, %2\n " insn " ft2, ft0, ft1\n fmv.x.w %0, ft2" : "=r"(r) : "r"(a), "r"(b) : "ft0", "ft1", "ft2"); return r; }
#define CMP_D(fn, insn) static u64 fn(u64 a, u64 b) { u64 r; __asm__ volatile( \
  "fmv.d.x ft0, %1\n fmv.d.x ft1, %2\n " insn " %0, ft0, ft1" : "=r"(r) : "r"(a), "r"(b) : "ft0", "ft1"); return r; }
#define CMP_S(fn, insn) static u64 fn(u64 a, u64 b) { u64 r; __asm__ volatile( \
  "fmv.w.x ft0, %1\n fmv.w.x ft1, %2\n " insn " %0, ft0, ft1" : "=r"(r) : "r"(a), "r"(b) : "ft0", "ft1"); return r; }
#define FMA_D(fn, insn) static u64 fn(u64 a, u64 b, u64 c) { u64 r; __asm__ volatile( \
  "fmv.d.x ft0, %1\n fmv.d.x ft1, %2\n fmv.d.x ft2, %3\n " insn " ft3, ft0, ft1, ft2\n fmv.x.d %0, ft3" : "=r"(r) : "r"(a), "r"(b), "r"(c) : "ft0", "ft1", "ft2", "ft3"); return r; }
#define FMA_S(fn, insn) static u64 fn(u64 a, u64 b, u64 c) { u64 r; __asm__ volatile( \
  "fmv.w.x ft0, %1\n fmv.w.x ft1, %2\n fmv.w.x ft2, %3\n " insn " ft3, ft0, ft1, ft2\n fmv.x.w %0, ft3" : "=r"(r) : "r"(a), "r"(b), "r"(c) : "ft0", "ft1", "ft2", "ft3"); return r; }
/* unary: fp -> fp, fp -> int, int -> fp */
#define UN_DD(fn, insn) static u64 fn(u64 a) { u64 r; __asm__ volatile("fmv.d.x ft0, %1\n " insn " ft1, ft0\n fmv.x.d %0, ft1" : "=r"(r) : "r"(a) : "ft0", "ft1"); return r; }
#define UN_SS(fn, insn) static u64 fn(u64 a) { u64 r; __asm__ volatile("fmv.w.x ft0, %1\n " insn " ft1, ft0\n fmv.x.w %0, ft1" : "=r"(r) : "r"(a) : "ft0", "ft1"); return r; }
#define UN_DS(fn, insn) static u64 fn(u64 a) { u64 r; __asm__ volatile("fmv.d.x ft0, %1\n " insn " ft1, ft0\n fmv.x.w %0, ft1" : "=r"(r) : "r"(a) : "ft0", "ft1"); return r; }
#define UN_SD(fn, insn) static u64 fn(u64 a) { u64 r; __asm__ volatile("fmv.w.x ft0, %1\n " insn " ft1, ft0\n fmv.x.d %0, ft1" : "=r"(r) : "r"(a) : "ft0", "ft1"); return r; }
#define UN_DX(fn, insn) static u64 fn(u64 a) { u64 r; __asm__ volatile("fmv.d.x ft0, %1\n " insn " %0, ft0" : "=r"(r) : "r"(a) : "ft0"); return r; }
#define UN_SX(fn, insn) static u64 fn(u64 a) { u64 r; __asm__ volatile("fmv.w.x ft0, %1\n " insn " %0, ft0" : "=r"(r) : "r"(a) : "ft0"); return r; }
#define UN_XD(fn, insn) static u64 fn(u64 a) { u64 r; __asm__ volatile(insn " ft0, %1\n fmv.x.d %0, ft0" : "=r"(r) : "r"(a) : "ft0"); return r; }
#define UN_XS(fn, insn) static u64 fn(u64 a) { u64 r; __asm__ volatile(insn " ft0, %1\n fmv.x.w %0, ft0" : "=r"(r) : "r"(a) : "ft0"); return r; }

BIN_D(add_d, "fadd.d") BIN_D(sub_d, "fsub.d") BIN_D(mul_d, "fmul.d") BIN_D(div_d, "fdiv.d")
BIN_D(min_d, "fmin.d") BIN_D(max_d, "fmax.d") BIN_D(sgnj_d, "fsgnj.d") BIN_D(sgnjn_d, "fsgnjn.d") BIN_D(sgnjx_d, "fsgnjx.d")
BIN_D(add_d_rtz, "fadd.d") BIN_D(mul_d_rup, "fmul.d")
BIN_S(add_s, "fadd.s") BIN_S(sub_s, "fsub.s") BIN_S(mul_s, "fmul.s") BIN_S(div_s, "fdiv.s")
BIN_S(min_s, "fmin.s") BIN_S(max_s, "fmax.s") BIN_S(sgnj_s, "fsgnj.s") BIN_S(sgnjn_s, "fsgnjn.s") BIN_S(sgnjx_s, "fsgnjx.s")
CMP_D(eq_d, "feq.d") CMP_D(lt_d, "flt.d") CMP_D(le_d, "fle.d")
CMP_S(eq_s, "feq.s") CMP_S(lt_s, "flt.s") CMP_S(le_s, "fle.s")
FMA_D(madd_d, "fmadd.d") FMA_D(msub_d, "fmsub.d") FMA_D(nmadd_d, "fnmadd.d") FMA_D(nmsub_d, "fnmsub.d")
FMA_S(madd_s, "fmadd.s") FMA_S(msub_s, "fmsub.s") FMA_S(nmadd_s, "fnmadd.s") FMA_S(nmsub_s, "fnmsub.s")
UN_DD(sqrt_d, "fsqrt.d") UN_SS(sqrt_s, "fsqrt.s") UN_DS(cvt_s_d, "fcvt.s.d") UN_SD(cvt_d_s, "fcvt.d.s")
UN_DX(cvt_w_d, "fcvt.w.d") UN_DX(cvt_wu_d, "fcvt.wu.d") UN_DX(cvt_l_d, "fcvt.l.d") UN_DX(cvt_lu_d, "fcvt.lu.d") UN_DX(class_d, "fclass.d")
UN_SX(cvt_w_s, "fcvt.w.s") UN_SX(cvt_wu_s, "fcvt.wu.s") UN_SX(cvt_l_s, "fcvt.l.s") UN_SX(cvt_lu_s, "fcvt.lu.s") UN_SX(class_s, "fclass.s")
UN_XD(cvt_d_w, "fcvt.d.w") UN_XD(cvt_d_wu, "fcvt.d.wu") UN_XD(cvt_d_l, "fcvt.d.l") UN_XD(cvt_d_lu, "fcvt.d.lu")
UN_XS(cvt_s_w, "fcvt.s.w") UN_XS(cvt_s_wu, "fcvt.s.wu") UN_XS(cvt_s_l, "fcvt.s.l") UN_XS(cvt_s_lu, "fcvt.s.lu")

static u64 rtz_add(u64 a, u64 b) { u64 r; __asm__ volatile("fmv.d.x ft0, %1\n fmv.d.x ft1, %2\n fadd.d ft2, ft0, ft1, rtz\n fmv.x.d %0, ft2" : "=r"(r) : "r"(a), "r"(b) : "ft0", "ft1", "ft2"); return r; }
static u64 rup_div_s(u64 a, u64 b) { u64 r; __asm__ volatile("fmv.w.x ft0, %1\n fmv.w.x ft1, %2\n fdiv.s ft2, ft0, ft1, rup\n fmv.x.w %0, ft2" : "=r"(r) : "r"(a), "r"(b) : "ft0", "ft1", "ft2"); return r; }
static u64 rdn_cvt_w(u64 a) { u64 r; __asm__ volatile("fmv.d.x ft0, %1\n fcvt.w.d %0, ft0, rdn" : "=r"(r) : "r"(a) : "ft0"); return r; }
static u64 rmm_cvt_l_s(u64 a) { u64 r; __asm__ volatile("fmv.w.x ft0, %1\n fcvt.l.s %0, ft0, rmm" : "=r"(r) : "r"(a) : "ft0"); return r; }

typedef u64 (*bin_fn)(u64, u64);
typedef u64 (*un_fn)(u64);
typedef u64 (*tri_fn)(u64, u64, u64);

static void run_bin(bin_fn f, int isD) {
  unsigned n = isD ? ND : NS;
  for (unsigned i = 0; i < n; i++)
    for (unsigned j = 0; j < n; j++) {
      mix(f(isD ? D[i] : S[i], isD ? D[j] : S[j]));
      mix(flags());
    }
}
static void run_un(un_fn f, int isD) {
  unsigned n = isD ? ND : NS;
  for (unsigned i = 0; i < n; i++) {
    mix(f(isD ? D[i] : S[i]));
    mix(flags());
  }
}
static const u64 INTS[] = { 0, 1, (u64)-1, 0x7fffffff, 0x80000000, 0xffffffff, 0x100000001, 0x7fffffffffffffff,
  0x8000000000000000, 0xffffffffffffffff - 0x3ff, 0x20000000000001, 0x123456789abcdef, 16777217, 0xfffffffff0000001 };
static void run_int(un_fn f) {
  for (unsigned i = 0; i < sizeof(INTS) / sizeof(INTS[0]); i++) {
    mix(f(INTS[i]));
    mix(flags());
  }
}
static void run_tri(tri_fn f, int isD) {
  unsigned n = isD ? ND : NS;
  for (unsigned i = 0; i < n; i += 2)
    for (unsigned j = 1; j < n; j += 3)
      for (unsigned k = 0; k < n; k += 2) {
        mix(f(isD ? D[i] : S[i], isD ? D[j] : S[j], isD ? D[k] : S[k]));
        mix(flags());
      }
}

static const bin_fn BINS[] = { add_d, sub_d, mul_d, div_d, min_d, max_d, sgnj_d, sgnjn_d, sgnjx_d, eq_d, lt_d, le_d, add_d_rtz, mul_d_rup,
  add_s, sub_s, mul_s, div_s, min_s, max_s, sgnj_s, sgnjn_s, sgnjx_s, eq_s, lt_s, le_s };
static const int BIN_D_COUNT = 14;
static const un_fn UNS_D[] = { sqrt_d, cvt_s_d, cvt_w_d, cvt_wu_d, cvt_l_d, cvt_lu_d, class_d, rdn_cvt_w };
static const un_fn UNS_S[] = { sqrt_s, cvt_d_s, cvt_w_s, cvt_wu_s, cvt_l_s, cvt_lu_s, class_s, rmm_cvt_l_s };
static const un_fn INT_FNS[] = { cvt_d_w, cvt_d_wu, cvt_d_l, cvt_d_lu, cvt_s_w, cvt_s_wu, cvt_s_l, cvt_s_lu };
static const tri_fn TRIS[] = { madd_d, msub_d, nmadd_d, nmsub_d, madd_s, msub_s, nmadd_s, nmsub_s };

static u64 mem[4] = { 0x7ff4000000001234UL, 0, 0, 0 };

int test_main(void) {
  for (u64 rm = 0; rm < 5; rm++) {
    set_frm(rm);
    for (unsigned k = 0; k < sizeof(BINS) / sizeof(BINS[0]); k++) { hash = k; run_bin(BINS[k], k < BIN_D_COUNT); print_hex(hash); }
    for (unsigned k = 0; k < 8; k++) { hash = k; run_un(UNS_D[k], 1); run_un(UNS_S[k], 0); print_hex(hash); }
    for (unsigned k = 0; k < 8; k++) { hash = k; run_int(INT_FNS[k]); print_hex(hash); }
    for (unsigned k = 0; k < 8; k++) { hash = k; run_tri(TRIS[k], k < 4); print_hex(hash); }
  }
  hash = 0; run_bin(rtz_add, 1); run_bin(rup_div_s, 0); print_hex(hash);
  /* a single that is not NaN-boxed reads as the canonical NaN */
  u64 r;
  __asm__ volatile("fmv.d.x ft0, %1\n fadd.s ft1, ft0, ft0\n fmv.x.d %0, ft1" : "=r"(r) : "r"(0x3ff0000000000000UL) : "ft0", "ft1");
  print_hex(r);
  /* FP loads and stores are bit-exact (no canonicalisation) */
  __asm__ volatile("fld ft0, 0(%1)\n fsd ft0, 8(%1)\n flw ft1, 0(%1)\n fsw ft1, 16(%1)\n fmv.x.d %0, ft1" : "=r"(r) : "r"(mem), "m"(mem) : "ft0", "ft1", "memory");
  print_hex(r);
  print_hex(mem[1]);
  print_hex(mem[2]);
  /* reserved rounding mode 5 with dynamic rm: illegal instruction */
  set_frm(5);
  __asm__ volatile("fadd.d ft0, ft0, ft0" ::: "ft0");
  __asm__ volatile("la t0, trap_cause\n ld %0, 0(t0)" : "=r"(r) :: "t0");
  print_hex(r);
  set_frm(0);
  return 0;
}
