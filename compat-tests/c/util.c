/* Helpers for the C compatibility cases: event queue fed by watcher callbacks (which the
 * mt client runs on its completion thread), completion counters with bounded waits, and
 * handle bookkeeping so the runner can close every handle a case opened. */
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include "zkc.h"

static zhandle_t *handles[64];
static int nhandles;
static pthread_mutex_t hmu = PTHREAD_MUTEX_INITIALIZER;

long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void deadline(struct timespec *ts, int ms) {
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000;
    if (ts->tv_nsec >= 1000000000) { ts->tv_sec++; ts->tv_nsec -= 1000000000; }
}

void evq_init(evq *q) {
    memset(q, 0, sizeof *q);
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->cv, NULL);
}

/* Node events go to the queue given as watcher context; session events are dropped. */
void evq_watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx) {
    (void)zh;
    evq *q = ctx;
    if (!q || type == ZOO_SESSION_EVENT) return;
    pthread_mutex_lock(&q->mu);
    if (q->n < 64) {
        struct ev *e = &q->items[(q->head + q->n) % 64];
        e->type = type;
        e->state = state;
        snprintf(e->path, sizeof e->path, "%s", path ? path : "");
        q->n++;
        pthread_cond_broadcast(&q->cv);
    }
    pthread_mutex_unlock(&q->mu);
}

int evq_next(evq *q, int ms, struct ev *out) {
    struct timespec ts;
    deadline(&ts, ms);
    pthread_mutex_lock(&q->mu);
    while (q->n == 0) {
        if (pthread_cond_timedwait(&q->cv, &q->mu, &ts) != 0 && q->n == 0) break;
    }
    int got = q->n > 0;
    if (got) { *out = q->items[q->head]; q->head = (q->head + 1) % 64; q->n--; }
    pthread_mutex_unlock(&q->mu);
    return got;
}

static const char *etype(int t) {
    if (t == ZOO_CREATED_EVENT) return "created";
    if (t == ZOO_DELETED_EVENT) return "deleted";
    if (t == ZOO_CHANGED_EVENT) return "changed";
    if (t == ZOO_CHILD_EVENT) return "child";
    if (t == ZOO_NOTWATCHING_EVENT) return "notwatching";
    return "other";
}

const char *evq_expect(evq *q, int type, const char *path) {
    struct ev e;
    if (!evq_next(q, WAIT_MS, &e)) FAILF("timed out waiting for %s %s", etype(type), path);
    if (e.type != type || strcmp(e.path, path) != 0 || e.state != ZOO_CONNECTED_STATE)
        FAILF("want event %s %s, got %s %s (state %d)", etype(type), path, etype(e.type), e.path, e.state);
    return NULL;
}

const char *evq_expect_none(evq *q, int ms) {
    struct ev e;
    if (evq_next(q, ms, &e)) FAILF("unexpected event %s %s", etype(e.type), e.path);
    return NULL;
}

void counter_init(counter *c) {
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
}

void counter_bump(counter *c, const char *failure) {
    pthread_mutex_lock(&c->mu);
    c->n++;
    if (failure && !c->failures++) snprintf(c->err, sizeof c->err, "%s", failure);
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

int counter_wait(counter *c, int n, int ms) {
    struct timespec ts;
    deadline(&ts, ms);
    pthread_mutex_lock(&c->mu);
    while (c->n < n) {
        if (pthread_cond_timedwait(&c->cv, &c->mu, &ts) != 0) break;
    }
    int ok = c->n >= n;
    pthread_mutex_unlock(&c->mu);
    return ok;
}

static void track(zhandle_t *zh) {
    pthread_mutex_lock(&hmu);
    if (nhandles < 64) handles[nhandles++] = zh;
    pthread_mutex_unlock(&hmu);
}

zhandle_t *open_zk_session(evq *q, const clientid_t *cid) {
    zhandle_t *zh = zookeeper_init(g_hostport, evq_watcher, 10000, cid, q, 0);
    if (zh) track(zh);
    return zh;
}

zhandle_t *open_zk(evq *q) {
    zhandle_t *zh = open_zk_session(q, NULL);
    if (!zh) { snprintf(g_err, sizeof g_err, "zookeeper_init failed"); return NULL; }
    long long end = now_ms() + WAIT_MS;
    while (zoo_state(zh) != ZOO_CONNECTED_STATE) {
        if (now_ms() > end) { snprintf(g_err, sizeof g_err, "connect timed out"); return NULL; }
        usleep(10000);
    }
    return zh;
}

void close_all_but(zhandle_t *keep) {
    pthread_mutex_lock(&hmu);
    int kept = 0;
    for (int i = nhandles - 1; i >= 0; i--) {
        if (handles[i] == keep) kept = 1;
        else zookeeper_close(handles[i]);
    }
    nhandles = 0;
    if (kept) handles[nhandles++] = keep;
    pthread_mutex_unlock(&hmu);
}

void close_all(void) { close_all_but(NULL); }

void close_one(zhandle_t *zh) {
    pthread_mutex_lock(&hmu);
    for (int i = 0; i < nhandles; i++) {
        if (handles[i] == zh) { handles[i] = handles[--nhandles]; break; }
    }
    pthread_mutex_unlock(&hmu);
    zookeeper_close(zh);
}

/* field-wise (struct Stat has padding, so no memcmp) */
int stat_eq(const struct Stat *a, const struct Stat *b) {
    return a->czxid == b->czxid && a->mzxid == b->mzxid && a->ctime == b->ctime &&
           a->mtime == b->mtime && a->version == b->version && a->cversion == b->cversion &&
           a->aversion == b->aversion && a->ephemeralOwner == b->ephemeralOwner &&
           a->dataLength == b->dataLength && a->numChildren == b->numChildren && a->pzxid == b->pzxid;
}

int delete_tree(zhandle_t *zh, const char *path) {
    struct String_vector kids;
    int rc = zoo_get_children(zh, path, 0, &kids);
    if (rc != ZOK) return rc;
    for (int i = 0; i < kids.count; i++) {
        char child[1024];
        snprintf(child, sizeof child, "%s/%s", path, kids.data[i]);
        delete_tree(zh, child);
    }
    deallocate_String_vector(&kids);
    return zoo_delete(zh, path, -1);
}

const char *path_of(const char *base, const char *rel) {
    static char ring[16][512];
    static int next;
    char *b = ring[next++ % 16];
    snprintf(b, 512, "%s/%s", base, rel);
    return b;
}
