/* Watch and asynchronous-API cases for the C client: exists/get/children watches with exact
 * event type and path (per-call watcher and default watcher), zoo_remove_watches,
 * pipelined zoo_acreate / zoo_aget with completion counting and FIFO completion order,
 * ephemeral cleanup on close, and a session re-attach with a wrong password. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "zkc.h"

#define NASYNC 20

static const char *exists_watch(const char *base) {
    OPEN(zh, NULL);
    OPEN(w, NULL);
    evq q;
    evq_init(&q);
    struct Stat st;
    const char *p = path_of(base, "x");
    CHECK_RC("wexists missing", ZNONODE, zoo_wexists(w, p, evq_watcher, &q, &st));
    CHECK_RC("create", ZOK, zoo_create(zh, p, "a", 1, &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0));
    TRY(evq_expect(&q, ZOO_CREATED_EVENT, p));
    CHECK_RC("set unwatched", ZOK, zoo_set(zh, p, "b", 1, -1));
    TRY(evq_expect_none(&q, QUIET_MS));
    CHECK_RC("wexists", ZOK, zoo_wexists(w, p, evq_watcher, &q, &st));
    CHECK_INT("version", 1, st.version);
    CHECK_RC("set", ZOK, zoo_set(zh, p, "c", 1, -1));
    TRY(evq_expect(&q, ZOO_CHANGED_EVENT, p));
    char buf[8];
    int len = sizeof buf;
    CHECK_RC("wget", ZOK, zoo_wget(w, p, evq_watcher, &q, buf, &len, &st));
    CHECK_RC("delete", ZOK, zoo_delete(zh, p, -1));
    TRY(evq_expect(&q, ZOO_DELETED_EVENT, p));
    TRY(evq_expect_none(&q, QUIET_MS));
    return NULL;
}

static const char *default_watch(const char *base) {
    OPEN(zh, NULL);
    evq q;
    evq_init(&q);
    OPEN(w, &q); /* default watcher feeds q */
    struct Stat st;
    struct String_vector kids;
    const char *p = path_of(base, "x");
    CHECK_RC("create", ZOK, zoo_create(zh, p, NULL, -1, &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0));
    CHECK_RC("exists watch", ZOK, zoo_exists(w, p, 1, &st));
    CHECK_RC("children watch", ZOK, zoo_get_children2(w, p, 1, &kids, &st));
    deallocate_String_vector(&kids);
    CHECK_RC("child", ZOK, zoo_create(zh, path_of(base, "x/k"), NULL, -1, &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0));
    TRY(evq_expect(&q, ZOO_CHILD_EVENT, p));
    CHECK_RC("set", ZOK, zoo_set(zh, p, "v", 1, -1));
    TRY(evq_expect(&q, ZOO_CHANGED_EVENT, p));
    return NULL;
}

static const char *children_watch(const char *base) {
    OPEN(zh, NULL);
    OPEN(w, NULL);
    evq q;
    evq_init(&q);
    struct String_vector kids;
    struct Stat st;
    const char *p = path_of(base, "x");
    CHECK_RC("create", ZOK, zoo_create(zh, p, NULL, -1, &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0));
    CHECK_RC("wget_children2", ZOK, zoo_wget_children2(w, p, evq_watcher, &q, &kids, &st));
    deallocate_String_vector(&kids);
    CHECK_RC("set parent", ZOK, zoo_set(zh, p, "v", 1, -1));
    TRY(evq_expect_none(&q, QUIET_MS));
    CHECK_RC("child", ZOK, zoo_create(zh, path_of(base, "x/k"), NULL, -1, &ZOO_OPEN_ACL_UNSAFE, ZOO_EPHEMERAL, NULL, 0));
    TRY(evq_expect(&q, ZOO_CHILD_EVENT, p));
    CHECK_RC("rewatch", ZOK, zoo_wget_children2(w, p, evq_watcher, &q, &kids, &st));
    CHECK_INT("one child", 1, kids.count);
    deallocate_String_vector(&kids);
    CHECK_RC("remove watch", ZOK, zoo_remove_watches(w, p, ZWATCHTYPE_CHILD, evq_watcher, &q, 0));
    CHECK_RC("remove again", ZNOWATCHER, zoo_remove_watches(w, p, ZWATCHTYPE_CHILD, evq_watcher, &q, 0));
    CHECK_RC("delete child", ZOK, zoo_delete(zh, path_of(base, "x/k"), -1));
    struct ev e;
    /* the client may report the removal as a NOTWATCHING event; no child event may follow */
    while (evq_next(&q, QUIET_MS, &e))
        CHECK(e.type == ZOO_NOTWATCHING_EVENT, "unexpected event type %d after remove_watches", e.type);
    CHECK_RC("wget_children2 again", ZOK, zoo_wget_children2(w, p, evq_watcher, &q, &kids, &st));
    deallocate_String_vector(&kids);
    CHECK_RC("delete", ZOK, zoo_delete(zh, p, -1));
    TRY(evq_expect(&q, ZOO_DELETED_EVENT, p));
    return NULL;
}

struct actx { counter *c; int index; const char *expect_path; int *order; int *norder; pthread_mutex_t *mu; };

static void record_order(struct actx *a) {
    pthread_mutex_lock(a->mu);
    a->order[(*a->norder)++] = a->index;
    pthread_mutex_unlock(a->mu);
}

static void create_done(int rc, const char *value, const void *data) {
    struct actx *a = (struct actx *)data;
    char msg[600];
    record_order(a);
    if (rc != ZOK) snprintf(msg, sizeof msg, "acreate %d rc %d", a->index, rc);
    else if (!value || strcmp(value, a->expect_path) != 0) snprintf(msg, sizeof msg, "acreate %d path %s", a->index, value ? value : "(null)");
    else msg[0] = 0;
    counter_bump(a->c, msg[0] ? msg : NULL);
}

static void get_done(int rc, const char *value, int len, const struct Stat *st, const void *data) {
    struct actx *a = (struct actx *)data;
    char want[32], msg[128];
    record_order(a);
    snprintf(want, sizeof want, "v%d", a->index);
    if (rc != ZOK) snprintf(msg, sizeof msg, "aget %d rc %d", a->index, rc);
    else if (len != (int)strlen(want) || memcmp(value, want, len) != 0) snprintf(msg, sizeof msg, "aget %d data", a->index);
    else if (st->version != 0 || st->dataLength != len) snprintf(msg, sizeof msg, "aget %d stat", a->index);
    else msg[0] = 0;
    counter_bump(a->c, msg[0] ? msg : NULL);
}

static void missing_done(int rc, const char *value, int len, const struct Stat *st, const void *data) {
    (void)value; (void)len; (void)st;
    struct actx *a = (struct actx *)data;
    record_order(a);
    counter_bump(a->c, rc == ZNONODE ? NULL : "aget missing: want ZNONODE");
}

static const char *check_fifo(int *order, int n) {
    for (int i = 0; i < n; i++) CHECK(order[i] == i, "completion %d arrived at position %d (not FIFO)", order[i], i);
    return NULL;
}

static const char *async_ops(const char *base) {
    OPEN(zh, NULL);
    counter c;
    counter_init(&c);
    static struct actx ctx[NASYNC + 1];
    static char paths[NASYNC][512], vals[NASYNC][16];
    int order[NASYNC + 1], norder = 0;
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    for (int i = 0; i < NASYNC; i++) {
        snprintf(vals[i], sizeof vals[i], "v%d", i);
        snprintf(paths[i], sizeof paths[i], "%s/n%02d", base, i);
        ctx[i] = (struct actx){&c, i, paths[i], order, &norder, &mu};
        CHECK_RC("acreate", ZOK, zoo_acreate(zh, paths[i], vals[i], strlen(vals[i]), &ZOO_OPEN_ACL_UNSAFE, 0, create_done, &ctx[i]));
    }
    CHECK(counter_wait(&c, NASYNC, WAIT_MS), "only %d of %d acreate completions", c.n, NASYNC);
    CHECK(c.failures == 0, "%s", c.err);
    TRY(check_fifo(order, NASYNC));
    counter_init(&c);
    norder = 0;
    for (int i = 0; i < NASYNC; i++)
        CHECK_RC("aget", ZOK, zoo_aget(zh, paths[i], 0, get_done, &ctx[i]));
    ctx[NASYNC] = (struct actx){&c, NASYNC, NULL, order, &norder, &mu};
    CHECK_RC("aget missing", ZOK, zoo_aget(zh, path_of(base, "missing"), 0, missing_done, &ctx[NASYNC]));
    CHECK(counter_wait(&c, NASYNC + 1, WAIT_MS), "only %d of %d aget completions", c.n, NASYNC + 1);
    CHECK(c.failures == 0, "%s", c.err);
    TRY(check_fifo(order, NASYNC + 1));
    struct Stat st;
    CHECK_RC("parent", ZOK, zoo_exists(zh, base, 0, &st));
    CHECK_INT("numChildren", NASYNC, st.numChildren);
    return NULL;
}

static const char *ephemeral_close(const char *base) {
    OPEN(owner, NULL);
    OPEN(w, NULL);
    evq q;
    evq_init(&q);
    struct Stat st;
    char buf[512];
    CHECK_RC("eph seq", ZOK, zoo_create(owner, path_of(base, "e-"), NULL, -1, &ZOO_OPEN_ACL_UNSAFE, ZOO_EPHEMERAL_SEQUENTIAL, buf, sizeof buf));
    CHECK_STR("path", path_of(base, "e-0000000000"), buf);
    CHECK_RC("wexists", ZOK, zoo_wexists(w, buf, evq_watcher, &q, &st));
    CHECK_INT("owner", zoo_client_id(owner)->client_id, st.ephemeralOwner);
    close_one(owner);
    TRY(evq_expect(&q, ZOO_DELETED_EVENT, buf));
    CHECK_RC("gone", ZNONODE, zoo_exists(w, buf, 0, &st));
    return NULL;
}

static const char *bad_password(const char *base) {
    OPEN(zh, NULL);
    clientid_t cid = *zoo_client_id(zh);
    cid.passwd[0] ^= 1;
    zhandle_t *bad = open_zk_session(NULL, &cid);
    CHECK(bad != NULL, "zookeeper_init failed");
    long long end = now_ms() + 8000;
    while (zoo_state(bad) != ZOO_EXPIRED_SESSION_STATE && now_ms() < end) usleep(10000);
    CHECK_INT("state", ZOO_EXPIRED_SESSION_STATE, zoo_state(bad));
    /* the real session survives the failed attempt (the client reconnects if kicked) */
    struct Stat st;
    end = now_ms() + 5000;
    int rc;
    while ((rc = zoo_exists(zh, base, 0, &st)) == ZCONNECTIONLOSS && now_ms() < end) usleep(50000);
    CHECK_RC("original session usable", ZOK, rc);
    return NULL;
}

struct rc_slot { counter *c; int rc; char value[512]; };

static void void_done(int rc, const void *data) {
    struct rc_slot *s = (struct rc_slot *)data;
    s->rc = rc;
    counter_bump(s->c, NULL);
}

static void string_done(int rc, const char *value, const void *data) {
    struct rc_slot *s = (struct rc_slot *)data;
    s->rc = rc;
    snprintf(s->value, sizeof s->value, "%s", value ? value : "(null)");
    counter_bump(s->c, NULL);
}

static const char *async_multi_sync(const char *base) {
    OPEN(zh, NULL);
    counter c;
    counter_init(&c);
    static struct rc_slot ok, bad, sy;
    ok.c = bad.c = sy.c = &c;
    zoo_op_t ops[2], bops[2];
    zoo_op_result_t res[2], bres[2];
    char b0[512], b1[512];
    zoo_create_op_init(&ops[0], path_of(base, "m"), "x", 1, &ZOO_OPEN_ACL_UNSAFE, 0, b0, sizeof b0);
    zoo_create_op_init(&ops[1], path_of(base, "m/q-"), NULL, -1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT_SEQUENTIAL, b1, sizeof b1);
    zoo_check_op_init(&bops[0], path_of(base, "m"), 0);
    zoo_delete_op_init(&bops[1], path_of(base, "nope"), -1);
    CHECK_RC("amulti", ZOK, zoo_amulti(zh, 2, ops, res, void_done, &ok));
    CHECK_RC("amulti failing", ZOK, zoo_amulti(zh, 2, bops, bres, void_done, &bad));
    CHECK_RC("async sync", ZOK, zoo_async(zh, base, string_done, &sy));
    CHECK(counter_wait(&c, 3, WAIT_MS), "only %d of 3 completions", c.n);
    CHECK_RC("amulti rc", ZOK, ok.rc);
    CHECK_INT("res0", ZOK, res[0].err);
    CHECK_INT("res1", ZOK, res[1].err);
    CHECK_STR("seq path", path_of(base, "m/q-0000000000"), b1);
    CHECK_RC("failing amulti rc", ZNONODE, bad.rc);
    CHECK_INT("bres0", ZOK, bres[0].err);
    CHECK_INT("bres1", ZNONODE, bres[1].err);
    CHECK_RC("sync rc", ZOK, sy.rc);
    CHECK_STR("sync path", base, sy.value);
    return NULL;
}

void register_async_cases(void) {
    add_case("c_exists_watch", exists_watch);
    add_case("c_default_watcher", default_watch);
    add_case("c_children_watch_remove", children_watch);
    add_case("c_async_create_get", async_ops);
    add_case("c_ephemeral_close", ephemeral_close);
    add_case("c_async_multi_sync", async_multi_sync);
    add_case("c_bad_session_password", bad_password);
}
