/* The least any ZooKeeper server can spend per request on this machine: a fake server
 * that speaks just enough of the client protocol for rzk-bench's load generator and its
 * watch fan-out, and does nothing else. One thread, epoll, non-blocking sockets, every
 * reply pre-built except its xid; no tree, no sessions, no allocation per request. Its
 * server CPU per op is the kernel's share (loopback TCP, wake-ups, and with -s the log
 * write and fdatasync), which no server avoids. `rzk-bench run` builds it and runs it
 * after rzk and ZooKeeper (the "floor" columns); by hand:
 *
 *   gcc -O2 -o /tmp/zk_floor bench/c/zk_floor.c && /tmp/zk_floor 22997 [-s /tmp/floor.log]
 *   rzk-bench load --hosts 127.0.0.1:22997 --workload getdata --conns 8 --depth 1 \
 *       --rate 40000 --server-pid $(pgrep zk_floor)
 *
 * Replies: connect (a new session id), getData (100 B of data and a Stat), exists and
 * setData (a Stat), create (the path), getChildren (no children), delete (NoNode: there
 * is nothing to delete, which ends the harness's clean-up), ping, closeSession (then
 * close); anything else gets an empty OK reply.
 *
 * getData and exists with watch=true set a data watch; the next setData notifies every
 * watcher (after the round's fdatasync, before the setter's reply, as ZooKeeper orders
 * them) and clears the watches.
 *
 * With -s FILE, each epoll round that read a write (setData, create) first writes that
 * round's write requests, as read off the wire (so at least every value the round
 * carries), with O_DIRECT into FILE (preallocated and zeroed beforehand, as rzk's log is;
 * whole 4 KiB blocks, at least one) and fdatasyncs it, and only then sends that round's
 * replies: group commit, as rzk and ZooKeeper do.
 *
 * What any server must also do with a write's value, the floor does too: a create's path
 * and value are copied into memory of their own that is never freed (the znode stays), a
 * setData's value replaces the one it kept before. Without that, the floor never pays for
 * fresh memory, which a server growing its tree by 10 KB per create does on every create.
 *
 * The 4-letter word ruok gets imok; any other (mntr) gets `zk_packets_received` with the
 * frames read so far, counting connects and the probe itself as ZooKeeper counts them, so
 * the harness's packet check works against the floor too. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAXFD 4096
#define BUF (256 * 1024)
#define LOG_BYTES (64 << 20)

struct conn {
  int fd, greeted, closing, watching;
  size_t in_len, out_len;
  unsigned char in[BUF], out[BUF];
};

static struct conn *conns[MAXFD];
static int pending[MAXFD], npending; /* connections with replies held for the fsync */
static int log_fd = -1;
static long log_off;
static unsigned char *log_block;
static int64_t next_session = 0x100000000LL;
static unsigned long long packets; /* frames read, as mntr's zk_packets_received */
static int watchers[MAXFD], nwatchers; /* connections with a data watch set */
static int fire;                       /* a setData this round triggers the watches */
static unsigned char event[4 + 16 + 8 + 4 + 1024];
static size_t event_len; /* the notification frame for the last setData's path */

static void put32(unsigned char *p, uint32_t v) {
  p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v;
}
static void put64(unsigned char *p, uint64_t v) {
  put32(p, v >> 32); put32(p + 4, (uint32_t)v);
}
static uint32_t get32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Appends a frame: length, ReplyHeader{xid, zxid 1, err}, then `body`. */
static void reply_err(struct conn *c, uint32_t xid, int32_t err, const unsigned char *body,
                      size_t n) {
  if (c->out_len + 20 + n > BUF) { c->closing = 1; return; }
  unsigned char *p = c->out + c->out_len;
  put32(p, 16 + n); put32(p + 4, xid); put64(p + 8, 1); put32(p + 16, (uint32_t)err);
  if (n) memcpy(p + 20, body, n);
  c->out_len += 20 + n;
}

static void reply(struct conn *c, uint32_t xid, const unsigned char *body, size_t n) {
  reply_err(c, xid, 0, body, n);
}

static unsigned char stat68[68], getdata_body[4 + 100 + 68], children_body[4];

static void flush_out(struct conn *c) {
  size_t off = 0;
  while (off < c->out_len) {
    ssize_t w = write(c->fd, c->out + off, c->out_len - off);
    if (w < 0) { if (errno == EINTR) continue; c->closing = 1; break; }
    off += w;
  }
  c->out_len = 0;
}

/* The round's write requests, to be logged (O_DIRECT: block-aligned, whole blocks). */
#define ROUND_MAX (16 << 20)
static unsigned char *round_buf;
static size_t round_len;

static void log_put(void) {
  size_t n = (round_len + 4095) / 4096 * 4096;
  if (n == 0) n = 4096;
  memset(round_buf + round_len, 0, n - round_len);
  if (log_off + (long)n > LOG_BYTES) log_off = 0;
  if (pwrite(log_fd, round_buf, n, log_off) != (ssize_t)n) { perror("log write"); exit(1); }
  log_off = (log_off + (long)n) % LOG_BYTES;
  round_len = 0;
}

static void log_append(const unsigned char *p, size_t n) {
  if (log_fd < 0) return;
  if (n > ROUND_MAX) n = ROUND_MAX;
  if (round_len + n > ROUND_MAX) log_put(); /* written now, synced with the round */
  memcpy(round_buf + round_len, p, n);
  round_len += n;
}

/* Created znodes' paths and values, chained so that they stay reachable (never freed). */
struct kept { struct kept *prev; unsigned char bytes[]; };
struct kept *kept_nodes;
unsigned char *set_value; /* the last setData's value */

static void keep_create(const unsigned char *path, size_t plen, const unsigned char *v,
                        size_t vlen) {
  struct kept *k = malloc(sizeof *k + plen + vlen);
  if (!k) { perror("malloc"); exit(1); }
  memcpy(k->bytes, path, plen);
  memcpy(k->bytes + plen, v, vlen);
  k->prev = kept_nodes;
  kept_nodes = k;
}

static void keep_set(const unsigned char *v, size_t vlen) {
  unsigned char *n = malloc(vlen ? vlen : 1);
  if (!n) { perror("malloc"); exit(1); }
  memcpy(n, v, vlen);
  free(set_value);
  set_value = n;
}

/* A value at `at` in a frame of `len` bytes: buffer{int len, bytes}; 0 if it is not whole. */
static size_t value_at(const unsigned char *f, uint32_t len, uint32_t at) {
  if (at > len || len - at < 4) return 0;
  uint32_t vlen = get32(f + at);
  return vlen <= len - at - 4 ? vlen : 0;
}

static void drop(struct conn *c) {
  for (int i = 0; c->watching && i < nwatchers; i++)
    if (watchers[i] == c->fd) watchers[i] = watchers[--nwatchers];
  close(c->fd);
  conns[c->fd] = NULL;
  free(c);
}

/* Parses every complete frame in c->in; returns 1 if one of them was a write. */
static int serve_frames(struct conn *c) {
  int wrote = 0;
  size_t at = 0;
  if (!c->greeted && c->in_len >= 4 && get32(c->in) > BUF) {
    char ans[64];
    packets++;
    if (memcmp(c->in, "ruok", 4) == 0) snprintf(ans, sizeof ans, "imok");
    else snprintf(ans, sizeof ans, "zk_packets_received\t%llu\n", packets);
    if (write(c->fd, ans, strlen(ans)) < 0) { /* closing anyway */ }
    c->closing = 1;
    return 0;
  }
  while (c->in_len - at >= 4) {
    uint32_t len = get32(c->in + at);
    if (len > BUF - 4) { c->closing = 1; return wrote; }
    if (c->in_len - at - 4 < len) break;
    const unsigned char *f = c->in + at + 4;
    packets++;
    if (!c->greeted) {
      /* ConnectRequest{int proto, long zxid, int timeout, long session, buffer passwd,
       * bool readOnly} -> ConnectResponse{int proto, int timeout, long session,
       * buffer passwd(16), bool readOnly} */
      unsigned char r[4 + 4 + 4 + 8 + 4 + 16 + 1] = {0};
      put32(r, 4 + 4 + 8 + 4 + 16 + 1);
      memcpy(r + 8, f + 12, 4);
      put64(r + 12, (uint64_t)next_session++);
      put32(r + 20, 16);
      memcpy(c->out + c->out_len, r, sizeof r);
      c->out_len += sizeof r;
      c->greeted = 1;
    } else if (len >= 8) {
      uint32_t xid = get32(f);
      int32_t type = (int32_t)get32(f + 4);
      switch (type) {
      case 4: case 3: { /* getData, exists: path, bool watch */
        uint32_t plen = len >= 12 ? get32(f + 8) : 0;
        if (plen <= len - 13 && f[12 + plen] && !c->watching) {
          c->watching = 1;
          watchers[nwatchers++] = c->fd;
        }
        if (type == 4) reply(c, xid, getdata_body, sizeof getdata_body);
        else reply(c, xid, stat68, sizeof stat68);
        break;
      }
      case 8: reply(c, xid, children_body, sizeof children_body); break; /* getChildren */
      case 5: {                                                          /* setData */
        uint32_t plen = len >= 12 ? get32(f + 8) : 0;
        if (nwatchers && plen <= len - 12 && plen <= 1024) {
          /* WatcherEvent{NodeDataChanged, SyncConnected, path} under xid -1 */
          put32(event, 16 + 12 + plen); put32(event + 4, (uint32_t)-1);
          put64(event + 8, (uint64_t)-1); put32(event + 16, 0);
          put32(event + 20, 3); put32(event + 24, 3); put32(event + 28, plen);
          memcpy(event + 32, f + 12, plen);
          event_len = 32 + plen;
          fire = 1;
        }
        if (plen <= len - 12) keep_set(f + 16 + plen, value_at(f, len, 12 + plen));
        log_append(f, len);
        reply(c, xid, stat68, sizeof stat68);
        wrote = 1;
        break;
      }
      case 1: case 15: {                                                 /* create: the path */
        uint32_t plen = len >= 12 ? get32(f + 8) : 0;
        if (plen > len - 12) plen = 0;
        keep_create(f + 12, plen, f + 16 + plen, value_at(f, len, 12 + plen));
        log_append(f, len);
        unsigned char body[4 + 1024];
        if (plen > 1024) plen = 1024;
        put32(body, plen);
        memcpy(body + 4, f + 12, plen);
        reply(c, xid, body, 4 + plen);
        wrote = 1;
        break;
      }
      case 2: reply_err(c, xid, -101, NULL, 0); break;                   /* delete: NoNode */
      case -11: reply(c, xid, NULL, 0); c->closing = 1; break;           /* closeSession */
      default: reply(c, xid, NULL, 0); break;                            /* ping and others */
      }
    }
    at += 4 + len;
  }
  memmove(c->in, c->in + at, c->in_len - at);
  c->in_len -= at;
  return wrote;
}

static void log_write(void) {
  log_put();
  if (fdatasync(log_fd) != 0) { perror("log sync"); exit(1); }
}

int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: zk_floor PORT [-s LOGFILE]\n"); return 2; }
  int port = atoi(argv[1]);
  if (argc >= 4 && strcmp(argv[2], "-s") == 0) {
    log_fd = open(argv[3], O_RDWR | O_CREAT | O_TRUNC | O_DIRECT, 0644);
    if (log_fd < 0 || posix_memalign((void **)&log_block, 4096, 1 << 20)) { perror("log"); return 1; }
    memset(log_block, 0, 1 << 20);
    for (long o = 0; o < LOG_BYTES; o += 1 << 20)
      if (pwrite(log_fd, log_block, 1 << 20, o) != 1 << 20) { perror("zeroing"); return 1; }
    fdatasync(log_fd);
    free(log_block);
    if (posix_memalign((void **)&round_buf, 4096, ROUND_MAX)) { perror("log"); return 1; }
  }
  put64(stat68, 1); put64(stat68 + 8, 1); put32(stat68 + 48, 100); put64(stat68 + 60, 1);
  put32(getdata_body, 100);
  memset(getdata_body + 4, 'x', 100);
  memcpy(getdata_body + 104, stat68, 68);
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(lfd, (struct sockaddr *)&a, sizeof a) || listen(lfd, 1024)) { perror("listen"); return 1; }
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = lfd}, evs[256];
  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
  for (;;) {
    int n = epoll_wait(ep, evs, 256, -1);
    if (n < 0) { if (errno == EINTR) continue; perror("epoll_wait"); return 1; }
    int wrote = 0;
    npending = 0;
    for (int i = 0; i < n; i++) {
      int fd = evs[i].data.fd;
      if (fd == lfd) {
        int c;
        while ((c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
          if (c >= MAXFD) { close(c); continue; }
          setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          conns[c] = calloc(1, sizeof(struct conn));
          conns[c]->fd = c;
          struct epoll_event e = {.events = EPOLLIN, .data.fd = c};
          epoll_ctl(ep, EPOLL_CTL_ADD, c, &e);
        }
        continue;
      }
      struct conn *c = conns[fd];
      if (!c) continue;
      ssize_t r = read(fd, c->in + c->in_len, BUF - c->in_len);
      if (r <= 0) {
        if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        drop(c);
        continue;
      }
      c->in_len += r;
      wrote |= serve_frames(c);
      pending[npending++] = fd;
    }
    if (wrote && log_fd >= 0) log_write();
    if (fire) { /* after the txn is durable, before the setter's reply, as ZooKeeper */
      for (int i = 0; i < nwatchers; i++) {
        struct conn *w = conns[watchers[i]];
        if (!w || w->out_len + event_len > BUF) continue;
        w->watching = 0;
        memcpy(w->out + w->out_len, event, event_len);
        w->out_len += event_len;
        flush_out(w);
      }
      nwatchers = 0;
      fire = 0;
    }
    for (int i = 0; i < npending; i++) {
      struct conn *c = conns[pending[i]];
      if (!c) continue;
      flush_out(c);
      if (c->closing) drop(c);
    }
  }
}
