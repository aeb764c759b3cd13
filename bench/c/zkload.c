/*
 * zkload: an independent load generator on the ZooKeeper C client's async API
 * (libzookeeper_mt), used to cross-check rzk-bench's own jute client.
 *
 *   zkload HOST:PORT get|set|create CONNS DEPTH SECS WARMUP VALSIZE KEYPARENT NKEYS
 *
 * Each of CONNS handles keeps DEPTH requests outstanding (a new one is issued from each
 * completion).  Only completions inside the SECS window after WARMUP count.  Prints one
 * JSON line.  Keys KEYPARENT/00000 .. NKEYS-1 must exist (rzk-bench creates them).
 */
#include <zookeeper/zookeeper.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <pthread.h>
#include <sys/resource.h>

#define MAX_LAT (1 << 22)

enum kind { GET, SET, CREATE };

struct conn {
    zhandle_t *zh;
    int id;
    unsigned seed;
    long seq;
    long outstanding;      /* touched by the completion thread and main; under mu */
    long ops, errors;      /* completions inside the window */
    pthread_mutex_t mu;
};

static enum kind g_kind;
static int g_nkeys, g_valsize;
static const char *g_parent;
static char *g_value;
static volatile int g_stop, g_counting;
static double *g_lat;
static long g_nlat;
static pthread_mutex_t g_latmu = PTHREAD_MUTEX_INITIALIZER;

static double now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

struct op { struct conn *c; double t0; };

static void issue(struct conn *c);

static void done(struct op *o, int rc) {
    struct conn *c = o->c;
    double lat = now_us() - o->t0;
    free(o);
    pthread_mutex_lock(&c->mu);
    c->outstanding--;
    if (g_counting) {
        c->ops++;
        if (rc != ZOK) c->errors++;
    }
    pthread_mutex_unlock(&c->mu);
    if (g_counting) {
        pthread_mutex_lock(&g_latmu);
        if (g_nlat < MAX_LAT) g_lat[g_nlat++] = lat;
        pthread_mutex_unlock(&g_latmu);
    }
    if (!g_stop) issue(c);
}

static void data_cb(int rc, const char *v, int len, const struct Stat *s, const void *d) {
    (void)v; (void)len; (void)s;
    done((struct op *)d, rc);
}
static void stat_cb(int rc, const struct Stat *s, const void *d) {
    (void)s;
    done((struct op *)d, rc);
}
static void str_cb(int rc, const char *v, const void *d) {
    (void)v;
    done((struct op *)d, rc);
}

static void issue(struct conn *c) {
    char path[256];
    struct op *o = malloc(sizeof *o);
    int rc;
    o->c = c;
    pthread_mutex_lock(&c->mu);
    c->outstanding++;
    if (g_kind == CREATE)
        snprintf(path, sizeof path, "%s/c%d-%ld", g_parent, c->id, ++c->seq);
    else
        snprintf(path, sizeof path, "%s/%05d", g_parent, rand_r(&c->seed) % g_nkeys);
    pthread_mutex_unlock(&c->mu);
    o->t0 = now_us();
    if (g_kind == CREATE) {
        rc = zoo_acreate(c->zh, path, g_value, g_valsize, &ZOO_OPEN_ACL_UNSAFE, 0, str_cb, o);
    } else {
        if (g_kind == GET)
            rc = zoo_aget(c->zh, path, 0, data_cb, o);
        else
            rc = zoo_aset(c->zh, path, g_value, g_valsize, -1, stat_cb, o);
    }
    if (rc != ZOK) {
        pthread_mutex_lock(&c->mu);
        c->outstanding--;
        c->errors++;
        pthread_mutex_unlock(&c->mu);
        free(o);
    }
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(double p) {
    if (g_nlat == 0) return 0;
    long i = (long)(p * (g_nlat - 1));
    return g_lat[i];
}

int main(int argc, char **argv) {
    if (argc != 10) {
        fprintf(stderr, "usage: %s HOST:PORT get|set|create CONNS DEPTH SECS WARMUP VALSIZE KEYPARENT NKEYS\n", argv[0]);
        return 2;
    }
    const char *host = argv[1];
    g_kind = !strcmp(argv[2], "get") ? GET : !strcmp(argv[2], "set") ? SET : CREATE;
    int nconn = atoi(argv[3]), depth = atoi(argv[4]);
    double secs = atof(argv[5]), warmup = atof(argv[6]);
    g_valsize = atoi(argv[7]);
    g_parent = argv[8];
    g_nkeys = atoi(argv[9]);
    if (nconn < 1 || depth < 1 || g_nkeys < 1 || secs <= 0 || nconn > 1024) return 2;
    g_value = malloc(g_valsize + 1);
    memset(g_value, 'v', g_valsize);
    g_lat = malloc(sizeof(double) * MAX_LAT);
    zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);

    struct conn *cs = calloc(nconn, sizeof *cs);
    for (int i = 0; i < nconn; i++) {
        cs[i].id = i;
        cs[i].seed = 1234 + i;
        pthread_mutex_init(&cs[i].mu, NULL);
        cs[i].zh = zookeeper_init(host, NULL, 30000, 0, 0, 0);
        if (!cs[i].zh) { fprintf(stderr, "zookeeper_init failed\n"); return 1; }
    }
    /* Wait (bounded, 10 s) for every handle to connect. */
    double deadline = now_us() + 10e6;
    for (int i = 0; i < nconn; i++) {
        while (zoo_state(cs[i].zh) != ZOO_CONNECTED_STATE) {
            if (now_us() > deadline) { fprintf(stderr, "connect timed out\n"); return 1; }
            usleep(1000);
        }
    }
    for (int i = 0; i < nconn; i++)
        for (int d = 0; d < depth; d++) issue(&cs[i]);
    usleep((useconds_t)(warmup * 1e6));
    g_counting = 1;
    double t0 = now_us();
    usleep((useconds_t)(secs * 1e6));
    g_counting = 0;
    double elapsed = (now_us() - t0) / 1e6;
    g_stop = 1;
    /* Drain (bounded, 10 s). */
    deadline = now_us() + 10e6;
    for (int i = 0; i < nconn; i++) {
        for (;;) {
            pthread_mutex_lock(&cs[i].mu);
            long o = cs[i].outstanding;
            pthread_mutex_unlock(&cs[i].mu);
            if (o <= 0 || now_us() > deadline) break;
            usleep(1000);
        }
    }
    long ops = 0, errors = 0;
    for (int i = 0; i < nconn; i++) {
        ops += cs[i].ops;
        errors += cs[i].errors;
        zookeeper_close(cs[i].zh);
    }
    qsort(g_lat, g_nlat, sizeof(double), cmp);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
    printf("{\"client\":\"c\",\"ops\":%ld,\"errors\":%ld,\"secs\":%.3f,\"ops_per_sec\":%.1f,"
           "\"p50_us\":%.0f,\"p99_us\":%.0f,\"p999_us\":%.0f,\"max_us\":%.0f,"
           "\"client_cpu_whole_run_s\":%.3f}\n",
           ops, errors, elapsed, ops / elapsed, pct(0.5), pct(0.99), pct(0.999),
           g_nlat ? g_lat[g_nlat - 1] : 0.0, cpu);
    return 0;
}
