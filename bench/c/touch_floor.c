/* How fast this machine hands out fresh memory: maps SIZE MB of anonymous memory, with or
 * without MADV_HUGEPAGE, and writes one byte per 4 KB page from THREADS threads (each its
 * own slice), timing the whole. On a guest whose host takes back the memory the guest
 * frees (virtio-balloon free page reporting), the first touch is the expensive part of
 * growing a heap and of loading a snapshot, and it depends on the page size and on how
 * long the memory has been free: run it after a pause and right after another run.
 *
 *   gcc -O2 -pthread -o /tmp/touch_floor bench/c/touch_floor.c
 *   sleep 10; /tmp/touch_floor 400 1 1; sleep 10; /tmp/touch_floor 400 1 0
 *
 * Arguments: SIZE (MB), THREADS, HUGE (1 = MADV_HUGEPAGE). Prints seconds and MB/s. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

static size_t size;
static int threads;
static char *base;

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static void *touch(void *arg) {
  size_t per = size / threads, i = (size_t)arg;
  char *p = base + i * per;
  for (size_t off = 0; off < per; off += 4096) p[off] = 1;
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: touch_floor SIZE_MB THREADS HUGE(0|1)\n");
    return 2;
  }
  size = (size_t)atol(argv[1]) << 20;
  threads = atoi(argv[2]);
  int huge = atoi(argv[3]);
  if (threads < 1 || threads > 64 || size == 0) {
    fprintf(stderr, "bad arguments\n");
    return 2;
  }
  base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED) {
    perror("mmap");
    return 1;
  }
  if (huge && madvise(base, size, MADV_HUGEPAGE) != 0) perror("madvise");
  pthread_t t[64];
  double t0 = now();
  for (long i = 0; i < threads; i++) pthread_create(&t[i], NULL, touch, (void *)i);
  for (int i = 0; i < threads; i++) pthread_join(t[i], NULL);
  double secs = now() - t0;
  printf("%zu MB, %d thread(s), huge pages %s: %.3f s, %.0f MB/s\n", size >> 20, threads,
         huge ? "asked" : "not asked", secs, (size >> 20) / secs);
  return 0;
}
