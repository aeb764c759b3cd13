/* Shared declarations for the C stock-client compatibility program (libzookeeper_mt):
 * a thread-safe watch-event queue, bounded-wait helpers, connection tracking and the
 * CHECK macros that turn a failed expectation into a case failure message. */
#ifndef ZKC_H
#define ZKC_H

#include <pthread.h>
#include <stdio.h>
#include <zookeeper/zookeeper.h>

#define WAIT_MS 5000
#define QUIET_MS 300

struct ev { int type; int state; char path[512]; };

typedef struct evq {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int head, n;
    struct ev items[64];
} evq;

/* counter + condition variable for async completions */
typedef struct counter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int n;
    int failures;
    char err[256];
} counter;

extern const char *g_hostport;
extern char g_err[1024];

void evq_init(evq *q);
void evq_watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx);
int evq_next(evq *q, int ms, struct ev *out);            /* 1 = got an event */
const char *evq_expect(evq *q, int type, const char *path); /* NULL = ok */
const char *evq_expect_none(evq *q, int ms);

void counter_init(counter *c);
void counter_bump(counter *c, const char *failure);  /* failure may be NULL */
int counter_wait(counter *c, int n, int ms);         /* 1 = reached n in time */

zhandle_t *open_zk(evq *default_watch_q);  /* connected handle or NULL (g_err set) */
zhandle_t *open_zk_session(evq *q, const clientid_t *cid); /* does not wait */
void close_all(void);
void close_all_but(zhandle_t *keep);
void close_one(zhandle_t *zh);
int stat_eq(const struct Stat *a, const struct Stat *b);
int delete_tree(zhandle_t *zh, const char *path);
const char *path_of(const char *base, const char *rel); /* static ring of buffers */
long long now_ms(void);

typedef const char *(*case_fn)(const char *base);
void register_sync_cases(void);
void register_async_cases(void);
void add_case(const char *name, case_fn fn);

#define FAILF(...) do { snprintf(g_err, sizeof g_err, __VA_ARGS__); return g_err; } while (0)
#define CHECK(cond, ...) do { if (!(cond)) FAILF(__VA_ARGS__); } while (0)
#define CHECK_RC(what, want, got) do { int _w = (want), _g = (got); \
    if (_w != _g) FAILF("%s: want %d (%s) got %d (%s) [line %d]", what, _w, zerror(_w), _g, zerror(_g), __LINE__); } while (0)
#define CHECK_STR(what, want, got) do { const char *_w = (want), *_g = (got); \
    if (!_g || strcmp(_w, _g) != 0) FAILF("%s: want '%s' got '%s' [line %d]", what, _w, _g ? _g : "(null)", __LINE__); } while (0)
#define CHECK_INT(what, want, got) do { long long _w = (want), _g = (got); \
    if (_w != _g) FAILF("%s: want %lld got %lld [line %d]", what, _w, _g, __LINE__); } while (0)
#define TRY(x) do { const char *_e = (x); if (_e) return _e; } while (0)
#define OPEN(zh, q) zhandle_t *zh = open_zk(q); if (!zh) return g_err

#endif
