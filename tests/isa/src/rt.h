/* Minimal runtime for the C ISA tests (no libc): console printing from common.h and mem* for gcc. */
typedef unsigned long u64;
typedef long i64;
typedef unsigned int u32;
extern void print_hex(u64 v);
extern void print_str(const char *s);
void *memset(void *d, int c, unsigned long n);
void *memcpy(void *d, const void *s, unsigned long n);
