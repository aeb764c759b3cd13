/* Entry point of the C stock-client compatibility program.
 * Usage: zkcompat host:port [case ...]   (or --list)
 * Prints "PASS name" / "FAIL name: reason" per case, then "N passed, M failed";
 * exits 1 if anything failed. A global alarm bounds the whole run. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "zkc.h"

const char *g_hostport;
char g_err[1024];

static struct { const char *name; case_fn fn; } cases[64];
static int ncases, passed, failed;
static const char *current;

void add_case(const char *name, case_fn fn) {
    cases[ncases].name = name;
    cases[ncases].fn = fn;
    ncases++;
}

static void on_alarm(int sig) {
    (void)sig;
    char buf[512];
    int n = snprintf(buf, sizeof buf, "FAIL %s: run timed out\n%d passed, %d failed\n",
                     current ? current : "?", passed, failed + 1);
    if (write(1, buf, n) < 0) _exit(3);
    _exit(1);
}

int main(int argc, char **argv) {
    register_sync_cases();
    register_async_cases();
    if (argc == 2 && strcmp(argv[1], "--list") == 0) {
        for (int i = 0; i < ncases; i++) printf("%s\n", cases[i].name);
        return 0;
    }
    if (argc < 2) { fprintf(stderr, "usage: %s host:port [case ...] | --list\n", argv[0]); return 2; }
    g_hostport = argv[1];
    setvbuf(stdout, NULL, _IOLBF, 0);
    zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
    zoo_set_log_stream(stderr);
    signal(SIGALRM, on_alarm);
    alarm(80);

    char root[128];
    snprintf(root, sizeof root, "/ccompat-%d-%lld", (int)getpid(), now_ms());
    zhandle_t *admin = open_zk(NULL);
    if (!admin || zoo_create(admin, root, NULL, -1, &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0) != ZOK) {
        printf("FAIL setup: cannot connect/create %s\n0 passed, 1 failed\n", root);
        return 1;
    }
    int nnames = argc > 2 ? argc - 2 : ncases;
    for (int k = 0; k < nnames; k++) {
        const char *name = argc > 2 ? argv[k + 2] : cases[k].name;
        case_fn fn = NULL;
        for (int i = 0; i < ncases; i++) if (strcmp(cases[i].name, name) == 0) fn = cases[i].fn;
        current = name;
        const char *err = "unknown case";
        long long t0 = now_ms();
        if (fn) {
            char base[256];
            snprintf(base, sizeof base, "%s/%s", root, name);
            int rc = zoo_create(admin, base, NULL, -1, &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0);
            err = rc == ZOK ? fn(base) : "cannot create base node";
        }
        close_all_but(admin);
        fprintf(stderr, "# %s %lld ms\n", name, now_ms() - t0);
        if (err) { failed++; printf("FAIL %s: %s\n", name, err); }
        else { passed++; printf("PASS %s\n", name); }
    }
    delete_tree(admin, root);
    close_all();
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
