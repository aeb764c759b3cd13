/* The floor under the depth-1 write figures: the CPU time (and wall time) this machine's
 * kernel charges one thread for appending a record to a preallocated log and fdatasync-ing
 * it, as both servers' log writers do for every write at depth 1. No ZooKeeper involved.
 *
 *   gcc -O2 -o /tmp/fsync_floor bench/c/fsync_floor.c && /tmp/fsync_floor [dir]
 *
 * For 100 B and 10 KB records, buffered and with O_DIRECT (whole 4 KiB blocks, the last
 * one rewritten, as rzk's writer does), into a sparse file (one byte written at the end,
 * as ZooKeeper's preallocation does), a fallocated one (unwritten extents) and one whose
 * blocks were written with zeros first (as rzk keeps the blocks past its log's end),
 * prints per-append wall time, CPU time (getrusage) and voluntary context switches. Then the latency distribution of 100 B appends paced at 3,000 per second (the
 * bound under write p99/p999 at low load). The file lives in `dir` (default /tmp), which
 * should be the dataDir's filesystem. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define PREALLOC (64L << 20)
#define N 2000

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static double cpu(struct rusage *r) {
  return r->ru_utime.tv_sec * 1e6 + r->ru_utime.tv_usec + r->ru_stime.tv_sec * 1e6 +
         r->ru_stime.tv_usec;
}

/* prep: 0 sparse (a byte at the end), 1 zeroed (written), 2 fallocate (unwritten extents).
 * direct: O_DIRECT, each append rewrites the 4 KiB blocks it touches, as rzk's writer does. */
static int run(const char *path, int zeroed, size_t size, int direct) {
  unlink(path);
  int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0644);
  if (fd < 0) { perror(path); return 1; }
  if (zeroed == 2) {
    if (fallocate(fd, 0, 0, PREALLOC)) { perror("fallocate"); return 1; }
  } else if (zeroed) {
    static char z[1 << 20];
    for (long off = 0; off < PREALLOC; off += sizeof z)
      if (pwrite(fd, z, sizeof z, off) != (ssize_t)sizeof z) { perror("pwrite"); return 1; }
  } else if (pwrite(fd, "", 1, PREALLOC - 1) != 1) { perror("pwrite"); return 1; }
  fsync(fd);
  if (direct) {
    close(fd);
    fd = open(path, O_RDWR | O_DIRECT);
    if (fd < 0) { perror("O_DIRECT"); return 1; }
  }
  char *buf = aligned_alloc(4096, size + 8192);
  memset(buf, 'x', size + 8192);
  struct rusage r0, r1;
  getrusage(RUSAGE_SELF, &r0);
  double t0 = now();
  off_t pos = 0;
  for (int i = 0; i < N; i++) {
    if (direct) {
      off_t first = pos & ~4095L, end = (pos + size + 4095) & ~4095L;
      if (pwrite(fd, buf, end - first, first) != end - first) { perror("pwrite"); return 1; }
    } else if (pwrite(fd, buf, size, pos) != (ssize_t)size) { perror("pwrite"); return 1; }
    pos += size;
    if (fdatasync(fd)) { perror("fdatasync"); return 1; }
  }
  double wall = now() - t0;
  getrusage(RUSAGE_SELF, &r1);
  printf("%-8s %-9s %6zu B: %6.1f us wall, %5.1f us CPU, %.2f voluntary switches per append\n",
         direct ? "O_DIRECT" : "buffered",
         zeroed == 2 ? "fallocate" : zeroed ? "zeroed" : "sparse", size, wall / N, (cpu(&r1) - cpu(&r0)) / N,
         (double)(r1.ru_nvcsw - r0.ru_nvcsw) / N);
  free(buf);
  close(fd);
  unlink(path);
  return 0;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* 100 B append + fdatasync every 333 us for 3 s: wall time per append, percentiles. */
static int paced(const char *path) {
  enum { M = 9000, GAP_US = 333 };
  static double lat[M];
  unlink(path);
  int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0644);
  if (fd < 0) { perror(path); return 1; }
  if (pwrite(fd, "", 1, PREALLOC - 1) != 1) { perror("pwrite"); return 1; }
  fsync(fd);
  char buf[100];
  memset(buf, 'x', sizeof buf);
  double next = now();
  for (int i = 0; i < M; i++) {
    while (now() < next)
      if (next - now() > 60) usleep((useconds_t)(next - now() - 50));
    next += GAP_US;
    double t = now();
    if (pwrite(fd, buf, sizeof buf, (off_t)i * sizeof buf) != (ssize_t)sizeof buf ||
        fdatasync(fd)) { perror("append"); return 1; }
    lat[i] = now() - t;
  }
  qsort(lat, M, sizeof lat[0], cmp);
  printf("paced 100 B, 3,000/s: p50 %.0f us, p90 %.0f, p99 %.0f, p999 %.0f, max %.0f\n",
         lat[M / 2], lat[M * 9 / 10], lat[M * 99 / 100], lat[M * 999 / 1000], lat[M - 1]);
  close(fd);
  unlink(path);
  return 0;
}

int main(int argc, char **argv) {
  char path[4096];
  snprintf(path, sizeof path, "%s/fsync_floor.%d", argc > 1 ? argv[1] : "/tmp", getpid());
  size_t sizes[] = {100, 10240};
  for (int d = 0; d < 2; d++)
    for (int s = 0; s < 2; s++)
      for (int z = 0; z < 3; z++)
        if (run(path, z, sizes[s], d)) return 1;
  return paced(path);
}
