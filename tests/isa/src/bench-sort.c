/*
 * CPU benchmark workload: fill an array from an xorshift generator, quicksort it, checksum it,
 * ROUNDS times. Integer-only, branchy, memory-bound in L1 — a fair proxy for kernel code paths.
 * Prints the checksum (so engine and QEMU can be checked to have done the same work).
 */
#include "rt.h"
#ifndef ROUNDS
#define ROUNDS 40
#endif
#define N 20000
void *memset(void *d, int c, unsigned long n) { unsigned char *p = d; while (n--) *p++ = (unsigned char)c; return d; }
void *memcpy(void *d, const void *s, unsigned long n) { unsigned char *p = d; const unsigned char *q = s; while (n--) *p++ = *q++; return d; }
static u64 a[N];
static u64 state = 88172645463325252UL;
static u64 next(void) { state ^= state << 13; state ^= state >> 7; state ^= state << 17; return state; }
static void qsort_u64(u64 *v, long lo, long hi) {
  while (lo < hi) {
    u64 p = v[(lo + hi) / 2];
    long i = lo, j = hi;
    while (i <= j) {
      while (v[i] < p) i++;
      while (v[j] > p) j--;
      if (i <= j) { u64 t = v[i]; v[i] = v[j]; v[j] = t; i++; j--; }
    }
    if (j - lo < hi - i) { qsort_u64(v, lo, j); lo = i; } else { qsort_u64(v, i, hi); hi = j; }
  }
}
int test_main(void) {
  u64 sum = 0;
  for (int r = 0; r < ROUNDS; r++) {
    for (int i = 0; i < N; i++) a[i] = next() % 1000003;
    qsort_u64(a, 0, N - 1);
    for (int i = 0; i < N; i++) sum = sum * 31 + a[i] * (u64)(i + 1);
    for (int i = 1; i < N; i++) if (a[i - 1] > a[i]) return 1;
  }
  print_hex(sum);
  return 0;
}
