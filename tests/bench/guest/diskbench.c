/*
 * Disk throughput inside the guest for the benchmark (tests/bench/disk.ts): O_DIRECT I/O on a block
 * device so the guest's page cache does not hide the emulated disk.
 *
 *   diskbench DEVICE [SEQ_MIB] [RAND_OPS]
 *
 * Sequential write then read of SEQ_MIB MiB in 1 MiB requests, then RAND_OPS random 4 KiB reads and
 * RAND_OPS random 4 KiB writes (fixed seed, so both engines see the same offsets) within the
 * sequential area. Prints one line per phase: "diskbench PHASE BYTES SECONDS MBPS IOPS".
 * Built with riscv64-linux-gnu-gcc -static -O2; no dependencies beyond libc.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MIB (1024 * 1024)
#define BLOCK 4096

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next_rand(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

static void report(const char *phase, uint64_t bytes, uint64_t ops, double secs) {
  printf("diskbench %s %llu %.6f %.2f %.1f\n", phase, (unsigned long long)bytes, secs,
         bytes / secs / 1e6, ops / secs);
  fflush(stdout);
}

static void die(const char *what) {
  fprintf(stderr, "diskbench: %s: %s\n", what, strerror(errno));
  exit(1);
}

/* Whole-request I/O at an offset; O_DIRECT transfers are not expected to be short, but retry. */
static void xfer(int fd, int write_it, char *buf, size_t len, off_t off) {
  size_t done = 0;
  while (done < len) {
    ssize_t n = write_it ? pwrite(fd, buf + done, len - done, off + done)
                         : pread(fd, buf + done, len - done, off + done);
    if (n <= 0) die(write_it ? "pwrite" : "pread");
    done += (size_t)n;
  }
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: diskbench DEVICE [SEQ_MIB] [RAND_OPS]\n");
    return 2;
  }
  const char *dev = argv[1];
  unsigned seq_mib = argc > 2 ? (unsigned)atoi(argv[2]) : 32;
  unsigned rand_ops = argc > 3 ? (unsigned)atoi(argv[3]) : 2000;
  int fd = open(dev, O_RDWR | O_DIRECT);
  if (fd < 0) die(dev);
  off_t size = lseek(fd, 0, SEEK_END);
  if (size < (off_t)seq_mib * MIB) {
    fprintf(stderr, "diskbench: %s has %lld bytes, need %u MiB\n", dev, (long long)size, seq_mib);
    return 1;
  }
  char *buf;
  if (posix_memalign((void **)&buf, BLOCK, MIB)) die("posix_memalign");
  for (size_t i = 0; i < MIB; i++) buf[i] = (char)(i * 31 + 7);

  double t = now();
  for (unsigned i = 0; i < seq_mib; i++) xfer(fd, 1, buf, MIB, (off_t)i * MIB);
  if (fsync(fd)) die("fsync");
  report("seq-write", (uint64_t)seq_mib * MIB, seq_mib, now() - t);

  t = now();
  for (unsigned i = 0; i < seq_mib; i++) xfer(fd, 0, buf, MIB, (off_t)i * MIB);
  report("seq-read", (uint64_t)seq_mib * MIB, seq_mib, now() - t);

  uint64_t blocks = (uint64_t)seq_mib * MIB / BLOCK;
  t = now();
  for (unsigned i = 0; i < rand_ops; i++) xfer(fd, 0, buf, BLOCK, (off_t)(next_rand() % blocks) * BLOCK);
  report("rand-read", (uint64_t)rand_ops * BLOCK, rand_ops, now() - t);

  t = now();
  for (unsigned i = 0; i < rand_ops; i++) xfer(fd, 1, buf, BLOCK, (off_t)(next_rand() % blocks) * BLOCK);
  if (fsync(fd)) die("fsync");
  report("rand-write", (uint64_t)rand_ops * BLOCK, rand_ops, now() - t);
  close(fd);
  return 0;
}
