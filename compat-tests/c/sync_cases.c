/* Synchronous-API cases for the C client: create modes (ephemeral, sequential, container,
 * TTL), create2 Stat, get/set with versions and null vs empty data, delete error codes,
 * get_children2 with Stat, multi success/failure result lists, digest auth + ACLs. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "zkc.h"

static const char *create_modes(const char *base) {
    OPEN(zh, NULL);
    char buf[512];
    struct Stat st;
    CHECK_RC("persistent", ZOK, zoo_create(zh, path_of(base, "p"), "a", 1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, buf, sizeof buf));
    CHECK_STR("persistent path", path_of(base, "p"), buf);
    CHECK_RC("ephemeral", ZOK, zoo_create(zh, path_of(base, "e"), "a", 1, &ZOO_OPEN_ACL_UNSAFE, ZOO_EPHEMERAL, buf, sizeof buf));
    CHECK_RC("exists e", ZOK, zoo_exists(zh, path_of(base, "e"), 0, &st));
    CHECK_INT("ephemeralOwner", zoo_client_id(zh)->client_id, st.ephemeralOwner);
    CHECK_RC("seq", ZOK, zoo_create(zh, path_of(base, "s-"), "a", 1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT_SEQUENTIAL, buf, sizeof buf));
    CHECK_STR("seq path", path_of(base, "s-0000000002"), buf);
    CHECK_RC("eph seq", ZOK, zoo_create(zh, path_of(base, "es-"), "a", 1, &ZOO_OPEN_ACL_UNSAFE, ZOO_EPHEMERAL_SEQUENTIAL, buf, sizeof buf));
    CHECK_STR("eph seq path", path_of(base, "es-0000000003"), buf);
    CHECK_RC("container", ZOK, zoo_create2(zh, path_of(base, "c"), NULL, -1, &ZOO_OPEN_ACL_UNSAFE, ZOO_CONTAINER, buf, sizeof buf, &st));
    CHECK_INT("container owner", 0, st.ephemeralOwner);
    CHECK_RC("ttl", ZOK, zoo_create2_ttl(zh, path_of(base, "t"), "a", 1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT_WITH_TTL, 60000, buf, sizeof buf, &st));
    CHECK_INT("ttl owner", 0, st.ephemeralOwner);
    CHECK_RC("dup", ZNODEEXISTS, zoo_create(zh, path_of(base, "p"), "a", 1, &ZOO_OPEN_ACL_UNSAFE, 0, buf, sizeof buf));
    CHECK_RC("no parent", ZNONODE, zoo_create(zh, path_of(base, "x/y"), "a", 1, &ZOO_OPEN_ACL_UNSAFE, 0, buf, sizeof buf));
    CHECK_RC("ephemeral parent", ZNOCHILDRENFOREPHEMERALS, zoo_create(zh, path_of(base, "e/k"), "a", 1, &ZOO_OPEN_ACL_UNSAFE, 0, buf, sizeof buf));
    CHECK_RC("seq after errors", ZOK, zoo_create(zh, path_of(base, "s-"), NULL, -1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT_SEQUENTIAL, buf, sizeof buf));
    CHECK_STR("seq path 2", path_of(base, "s-0000000006"), buf);
    char small[8];
    CHECK_RC("truncating buffer", ZOK, zoo_create(zh, path_of(base, "long-name"), NULL, -1, &ZOO_OPEN_ACL_UNSAFE, 0, small, sizeof small));
    CHECK_INT("truncated length", 7, (long long)strlen(small));
    return NULL;
}

static const char *create2_stat(const char *base) {
    OPEN(zh, NULL);
    struct Stat st, ex, ps;
    char buf[512];
    const char *p = path_of(base, "n");
    CHECK_RC("create2", ZOK, zoo_create2(zh, p, "hello", 5, &ZOO_OPEN_ACL_UNSAFE, 0, buf, sizeof buf, &st));
    CHECK(st.czxid > 0 && st.czxid == st.mzxid && st.czxid == st.pzxid, "zxids %lld %lld %lld",
          (long long)st.czxid, (long long)st.mzxid, (long long)st.pzxid);
    CHECK_INT("ctime=mtime", st.ctime, st.mtime);
    CHECK_INT("version", 0, st.version);
    CHECK_INT("cversion", 0, st.cversion);
    CHECK_INT("dataLength", 5, st.dataLength);
    CHECK_INT("numChildren", 0, st.numChildren);
    CHECK_RC("exists", ZOK, zoo_exists(zh, p, 0, &ex));
    CHECK(stat_eq(&st, &ex), "create2 stat differs from exists stat");
    CHECK_RC("child", ZOK, zoo_create2(zh, path_of(base, "n/k"), NULL, -1, &ZOO_OPEN_ACL_UNSAFE, 0, buf, sizeof buf, &ex));
    CHECK_RC("parent", ZOK, zoo_exists(zh, p, 0, &ps));
    CHECK_INT("parent pzxid", ex.czxid, ps.pzxid);
    CHECK_INT("parent cversion", 1, ps.cversion);
    CHECK_INT("parent numChildren", 1, ps.numChildren);
    CHECK_INT("parent mzxid", st.mzxid, ps.mzxid);
    return NULL;
}

static const char *get_set_version(const char *base) {
    OPEN(zh, NULL);
    const char *p = path_of(base, "v");
    char buf[64];
    int len = sizeof buf;
    struct Stat st;
    CHECK_RC("create", ZOK, zoo_create(zh, p, "v0", 2, &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0));
    CHECK_RC("set v0", ZOK, zoo_set(zh, p, "v1", 2, 0));
    CHECK_RC("stale", ZBADVERSION, zoo_set(zh, p, "xx", 2, 0));
    CHECK_RC("set2", ZOK, zoo_set2(zh, p, "value2", 6, 1, &st));
    CHECK_INT("set2 version", 2, st.version);
    CHECK_INT("set2 dataLength", 6, st.dataLength);
    CHECK_RC("get", ZOK, zoo_get(zh, p, 0, buf, &len, &st));
    CHECK_INT("len", 6, len);
    CHECK(memcmp(buf, "value2", 6) == 0, "data mismatch");
    CHECK_INT("get version", 2, st.version);
    len = 3;
    CHECK_RC("get small buffer", ZOK, zoo_get(zh, p, 0, buf, &len, &st));
    CHECK_INT("truncated len", 3, len);
    CHECK_RC("set any", ZOK, zoo_set(zh, p, NULL, -1, -1));
    len = sizeof buf;
    CHECK_RC("get null", ZOK, zoo_get(zh, p, 0, buf, &len, &st));
    CHECK_INT("null data len", -1, len);
    CHECK_INT("null dataLength", 0, st.dataLength);
    CHECK_RC("set empty", ZOK, zoo_set(zh, p, "", 0, -1));
    len = sizeof buf;
    CHECK_RC("get empty", ZOK, zoo_get(zh, p, 0, buf, &len, &st));
    CHECK_INT("empty data len", 0, len);
    CHECK_INT("version after 2 more sets", 4, st.version);
    CHECK_RC("get missing", ZNONODE, zoo_get(zh, path_of(base, "zz"), 0, buf, &len, &st));
    CHECK_RC("set missing", ZNONODE, zoo_set(zh, path_of(base, "zz"), "x", 1, -1));
    return NULL;
}

static const char *delete_codes(const char *base) {
    OPEN(zh, NULL);
    const char *p = path_of(base, "d"), *k = path_of(base, "d/k");
    CHECK_RC("create", ZOK, zoo_create(zh, p, NULL, -1, &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0));
    CHECK_RC("create k", ZOK, zoo_create(zh, k, NULL, -1, &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0));
    CHECK_RC("bad version first", ZBADVERSION, zoo_delete(zh, p, 3));
    CHECK_RC("not empty", ZNOTEMPTY, zoo_delete(zh, p, -1));
    CHECK_RC("child bad version", ZBADVERSION, zoo_delete(zh, k, 1));
    CHECK_RC("child", ZOK, zoo_delete(zh, k, 0));
    CHECK_RC("child gone", ZNONODE, zoo_delete(zh, k, -1));
    CHECK_RC("parent", ZOK, zoo_delete(zh, p, 0));
    CHECK_RC("root", ZBADARGUMENTS, zoo_delete(zh, "/", -1));
    return NULL;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static const char *get_children2(const char *base) {
    OPEN(zh, NULL);
    struct String_vector kids;
    struct Stat st;
    const char *names[] = {"b", "a", "c"};
    for (int i = 0; i < 3; i++)
        CHECK_RC("create", ZOK, zoo_create(zh, path_of(base, names[i]), NULL, -1, &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0));
    CHECK_RC("delete c", ZOK, zoo_delete(zh, path_of(base, "c"), -1));
    CHECK_RC("get_children2", ZOK, zoo_get_children2(zh, base, 0, &kids, &st));
    CHECK_INT("count", 2, kids.count);
    qsort(kids.data, kids.count, sizeof(char *), cmp_str);
    int ok = strcmp(kids.data[0], "a") == 0 && strcmp(kids.data[1], "b") == 0;
    deallocate_String_vector(&kids);
    CHECK(ok, "children are not [a, b]");
    CHECK_INT("numChildren", 2, st.numChildren);
    CHECK_INT("cversion", 4, st.cversion);
    struct Stat ex;
    CHECK_RC("exists", ZOK, zoo_exists(zh, base, 0, &ex));
    CHECK(stat_eq(&st, &ex), "get_children2 stat differs from exists stat");
    CHECK_RC("leaf", ZOK, zoo_get_children2(zh, path_of(base, "a"), 0, &kids, &st));
    CHECK_INT("leaf count", 0, kids.count);
    deallocate_String_vector(&kids);
    CHECK_RC("missing", ZNONODE, zoo_get_children2(zh, path_of(base, "zz"), 0, &kids, &st));
    return NULL;
}

static const char *multi_ok(const char *base) {
    OPEN(zh, NULL);
    zoo_op_t ops[5];
    zoo_op_result_t res[5];
    char b0[512], b3[512];
    struct Stat sst;
    CHECK_RC("old", ZOK, zoo_create(zh, path_of(base, "old"), NULL, -1, &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0));
    zoo_create_op_init(&ops[0], path_of(base, "m"), "x", 1, &ZOO_OPEN_ACL_UNSAFE, 0, b0, sizeof b0);
    zoo_set_op_init(&ops[1], path_of(base, "m"), "yy", 2, 0, &sst);
    zoo_check_op_init(&ops[2], path_of(base, "m"), 1);
    zoo_create_op_init(&ops[3], path_of(base, "m/s-"), NULL, -1, &ZOO_OPEN_ACL_UNSAFE, ZOO_EPHEMERAL_SEQUENTIAL, b3, sizeof b3);
    zoo_delete_op_init(&ops[4], path_of(base, "old"), 0);
    CHECK_RC("multi", ZOK, zoo_multi(zh, 5, ops, res));
    for (int i = 0; i < 5; i++) CHECK_INT("result err", ZOK, res[i].err);
    CHECK_STR("create path", path_of(base, "m"), b0);
    CHECK_STR("seq path", path_of(base, "m/s-0000000000"), b3);
    CHECK_INT("set version", 1, sst.version);
    CHECK_INT("set dataLength", 2, sst.dataLength);
    struct Stat st;
    CHECK_RC("old gone", ZNONODE, zoo_exists(zh, path_of(base, "old"), 0, &st));
    CHECK_RC("m", ZOK, zoo_exists(zh, path_of(base, "m"), 0, &st));
    CHECK_INT("one zxid", st.czxid, sst.mzxid);
    return NULL;
}

static const char *multi_fail(const char *base) {
    OPEN(zh, NULL);
    zoo_op_t ops[4];
    zoo_op_result_t res[4];
    char b0[512], b2[512];
    CHECK_RC("v", ZOK, zoo_create(zh, path_of(base, "v"), NULL, -1, &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0));
    zoo_create_op_init(&ops[0], path_of(base, "a"), "x", 1, &ZOO_OPEN_ACL_UNSAFE, 0, b0, sizeof b0);
    zoo_check_op_init(&ops[1], path_of(base, "v"), 5);
    zoo_create_op_init(&ops[2], path_of(base, "b"), "x", 1, &ZOO_OPEN_ACL_UNSAFE, 0, b2, sizeof b2);
    zoo_delete_op_init(&ops[3], path_of(base, "v"), -1);
    CHECK_RC("multi", ZBADVERSION, zoo_multi(zh, 4, ops, res));
    CHECK_INT("op0", ZOK, res[0].err);
    CHECK_INT("op1", ZBADVERSION, res[1].err);
    CHECK_INT("op2", ZRUNTIMEINCONSISTENCY, res[2].err);
    CHECK_INT("op3", ZRUNTIMEINCONSISTENCY, res[3].err);
    struct Stat st;
    CHECK_RC("a rolled back", ZNONODE, zoo_exists(zh, path_of(base, "a"), 0, &st));
    CHECK_RC("v kept", ZOK, zoo_exists(zh, path_of(base, "v"), 0, &st));
    zoo_delete_op_init(&ops[0], path_of(base, "nope"), -1);
    zoo_create_op_init(&ops[1], path_of(base, "a"), "x", 1, &ZOO_OPEN_ACL_UNSAFE, 0, b0, sizeof b0);
    CHECK_RC("first op fails", ZNONODE, zoo_multi(zh, 2, ops, res));
    CHECK_INT("first op", ZNONODE, res[0].err);
    CHECK_INT("second op", ZRUNTIMEINCONSISTENCY, res[1].err);
    return NULL;
}

/* digest id of user:password is user:base64(sha1("user:password")) */
#define USER_DIGEST "user:tpUq/4Pn5A64fVZyQ0gOJ8ZWqkY="

static void auth_done(int rc, const void *data) {
    counter *c = (counter *)data;
    char msg[64];
    snprintf(msg, sizeof msg, "auth rc %d", rc);
    counter_bump(c, rc == ZOK ? NULL : msg);
}

static const char *acl_digest(const char *base) {
    OPEN(own, NULL);
    OPEN(anon, NULL);
    OPEN(wrong, NULL);
    counter c;
    counter_init(&c);
    CHECK_RC("add_auth", ZOK, zoo_add_auth(own, "digest", "user:password", 13, auth_done, &c));
    CHECK_RC("add_auth wrong", ZOK, zoo_add_auth(wrong, "digest", "user:nope", 9, auth_done, &c));
    CHECK(counter_wait(&c, 2, WAIT_MS), "auth completions timed out");
    CHECK(c.failures == 0, "%s", c.err);
    const char *p = path_of(base, "priv");
    CHECK_RC("create creator-all", ZOK, zoo_create(own, p, "s", 1, &ZOO_CREATOR_ALL_ACL, 0, NULL, 0));
    struct ACL_vector acl;
    struct Stat st;
    CHECK_RC("get_acl", ZOK, zoo_get_acl(own, p, &acl, &st));
    CHECK_INT("acl count", 1, acl.count);
    CHECK_INT("perms", ZOO_PERM_ALL, acl.data[0].perms);
    CHECK_STR("scheme", "digest", acl.data[0].id.scheme);
    CHECK_STR("id", USER_DIGEST, acl.data[0].id.id);
    deallocate_ACL_vector(&acl);
    char buf[16];
    int len = sizeof buf;
    CHECK_RC("owner get", ZOK, zoo_get(own, p, 0, buf, &len, &st));
    CHECK_RC("anon get", ZNOAUTH, zoo_get(anon, p, 0, buf, &len, &st));
    CHECK_RC("anon set", ZNOAUTH, zoo_set(anon, p, "x", 1, -1));
    CHECK_RC("wrong password get", ZNOAUTH, zoo_get(wrong, p, 0, buf, &len, &st));
    CHECK_RC("anon exists ok", ZOK, zoo_exists(anon, p, 0, &st));
    CHECK_RC("anon creator-all", ZINVALIDACL, zoo_create(anon, path_of(base, "x"), NULL, -1, &ZOO_CREATOR_ALL_ACL, 0, NULL, 0));
    CHECK_RC("read-only node", ZOK, zoo_create(own, path_of(base, "ro"), "r", 1, &ZOO_READ_ACL_UNSAFE, 0, NULL, 0));
    CHECK_RC("ro read", ZOK, zoo_get(anon, path_of(base, "ro"), 0, buf, &len, &st));
    CHECK_RC("ro write", ZNOAUTH, zoo_set(anon, path_of(base, "ro"), "x", 1, -1));
    CHECK_RC("owner delete", ZOK, zoo_delete(own, p, -1));
    return NULL;
}

static const char *auth_failed(const char *base) {
    (void)base;
    OPEN(zh, NULL);
    counter c;
    counter_init(&c);
    CHECK_RC("add_auth", ZOK, zoo_add_auth(zh, "nosuchscheme", "x", 1, auth_done, &c));
    CHECK(counter_wait(&c, 1, WAIT_MS), "auth completion timed out");
    CHECK_STR("auth result", "auth rc -115", c.err);
    long long end = now_ms() + WAIT_MS;
    while (zoo_state(zh) != ZOO_AUTH_FAILED_STATE && now_ms() < end) usleep(10000);
    CHECK_INT("state", ZOO_AUTH_FAILED_STATE, zoo_state(zh));
    return NULL;
}

void register_sync_cases(void) {
    add_case("c_create_modes", create_modes);
    add_case("c_create2_stat", create2_stat);
    add_case("c_get_set_version", get_set_version);
    add_case("c_delete_codes", delete_codes);
    add_case("c_get_children2", get_children2);
    add_case("c_multi_success", multi_ok);
    add_case("c_multi_failure", multi_fail);
    add_case("c_acl_digest", acl_digest);
    add_case("c_auth_failed", auth_failed);
}
