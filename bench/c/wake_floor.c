/* The cost of handing work to another thread and back on this machine: two threads
 * ping-pong through eventfds, first pinned to the same CPU, then to two CPUs. On a VM
 * each cross-CPU wake-up of an idle vCPU is an IPI plus a halt exit, which is why rzk's
 * core fsyncs small batches itself at low load (ARCHITECTURE.md, "Inline sync").
 *
 *   gcc -O2 -o /tmp/wake_floor bench/c/wake_floor.c -lpthread && /tmp/wake_floor
 *
 * Prints wall and CPU time (getrusage, both threads) per round trip. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define N 20000
static int to_peer, to_main, peer_cpu;

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static double cpu(void) {
  struct rusage r;
  getrusage(RUSAGE_SELF, &r);
  return r.ru_utime.tv_sec * 1e6 + r.ru_utime.tv_usec + r.ru_stime.tv_sec * 1e6 +
         r.ru_stime.tv_usec;
}

static void pin(int c) {
  cpu_set_t s;
  CPU_ZERO(&s);
  CPU_SET(c, &s);
  pthread_setaffinity_np(pthread_self(), sizeof s, &s);
}

static void *peer(void *arg) {
  (void)arg;
  pin(peer_cpu);
  uint64_t v;
  for (int i = 0; i < N; i++) {
    if (read(to_peer, &v, 8) != 8 || write(to_main, &v, 8) != 8) break;
  }
  return 0;
}

int main(void) {
  for (peer_cpu = 0; peer_cpu < 2; peer_cpu++) {
    to_peer = eventfd(0, 0);
    to_main = eventfd(0, 0);
    pthread_t t;
    pin(0);
    pthread_create(&t, 0, peer, 0);
    usleep(10000);
    double c0 = cpu(), t0 = now();
    uint64_t v = 1;
    for (int i = 0; i < N; i++) {
      if (write(to_peer, &v, 8) != 8 || read(to_main, &v, 8) != 8) break;
    }
    double wall = now() - t0, used = cpu() - c0;
    pthread_join(t, 0);
    printf("%s CPU: round trip %.1f us wall, %.1f us CPU\n", peer_cpu ? "two" : "one",
           wall / N, used / N);
    close(to_peer);
    close(to_main);
  }
  return 0;
}
