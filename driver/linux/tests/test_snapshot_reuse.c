/*
 * test_snapshot_reuse.c - the start-up snapshot against a pid reused while
 * it is taken, with each source (root; skips, saying why, without).
 *
 * pid_churn_helper (the path in argv[1]) forks child after child under one
 * pid P (another when a foreign process takes P) while idle processes under
 * lower pids make the snapshot reach P late: every child created after the
 * subscription and gone before that read is in the live stream only. A
 * reader gives each event of a pid to the latest process it knows under it,
 * so in the records every exit of a child must come after that child's own
 * create (started when the child did) or after a snapshot record read while
 * the child was alive; a child that started before the recording may end
 * without either. Every child that lived inside the recording must be found
 * so. Before, the eBPF source took the creates of all those children for
 * the snapshot's process, and the proc connector source gave it the exit of
 * one of them, then showed it a second time.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_util.h"

#define SLEEPERS 600
#define MAX_KIDS 20000
#define MAX_PIDS 16

static const char *helper;

struct kid {
  int pid, code;
  uint64_t t0, t1; /* before its fork, after its wait (CLOCK_MONOTONIC ns) */
  int seen;        /* its exit was found, after its own create or the snapshot */
};

struct churn {
  pid_t helper_pid;
  int to_helper, from_helper; /* its stdin (closing it ends the churn), its stdout */
  int churn_pid;
  struct kid kids[MAX_KIDS];
  int n;
};

/* What a churned pid stands for in the records so far. */
struct pid_state {
  uint32_t pid;
  int cur;        /* 0 nothing, 1 a create, 2 a snapshot record */
  uint64_t cur_t; /* the create's start, or the snapshot's read */
  uint64_t reached; /* when the snapshot reached the pid (its read, or the next pid's) */
  int held_at_read; /* a child had the pid then */
};

static int start_churn(struct churn *c) {
  int in[2], out[2];
  char line[64];
  size_t len = 0;
  if (pipe(in) != 0 || pipe(out) != 0) return -1;
  c->helper_pid = fork();
  if (c->helper_pid == 0) {
    char n[16];
    snprintf(n, sizeof(n), "%d", SLEEPERS);
    dup2(in[0], 0);
    dup2(out[1], 1);
    close(in[0]), close(in[1]), close(out[0]), close(out[1]);
    execl(helper, helper, n, (char *)NULL);
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  c->to_helper = in[1];
  c->from_helper = out[0];
  while (len < sizeof(line) - 1 && read(c->from_helper, line + len, 1) == 1 && line[len] != '\n') len++;
  line[len] = 0;
  return strcmp(line, "ready") == 0 ? 0 : -1;
}

/* Ends the churn and reads what it did. */
static int stop_churn(struct churn *c) {
  FILE *f;
  char line[128];
  int st;
  close(c->to_helper);
  f = fdopen(c->from_helper, "r");
  if (f == NULL) return -1;
  c->n = 0;
  while (fgets(line, sizeof(line), f)) {
    unsigned long long t0, t1;
    int pid, code;
    if (sscanf(line, "churn %d", &c->churn_pid) == 1) continue;
    if (sscanf(line, "child %d %d %llu %llu", &pid, &code, &t0, &t1) == 4 && c->n < MAX_KIDS) {
      c->kids[c->n].pid = pid;
      c->kids[c->n].code = code;
      c->kids[c->n].t0 = t0;
      c->kids[c->n].t1 = t1;
      c->kids[c->n].seen = 0;
      c->n++;
    }
  }
  fclose(f);
  waitpid(c->helper_pid, &st, 0);
  return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* The child under pid that exited with code at time t. The proc connector
 * stamps an exit after the parent was woken (do_exit: exit_notify, then
 * proc_exit_connector), so t may follow the wait by a little; a code
 * repeats every 250 children, hundreds of milliseconds apart. */
static struct kid *kid_at(struct churn *c, uint32_t pid, int code, uint64_t t) {
  for (int i = 0; i < c->n; i++)
    if ((uint32_t)c->kids[i].pid == pid && c->kids[i].code == code && c->kids[i].t0 <= t &&
        t <= c->kids[i].t1 + 20000000)
      return &c->kids[i];
  return NULL;
}

/* The state of a churned pid, or NULL for another pid. */
static struct pid_state *state_of(struct pid_state *ps, int n, uint32_t pid) {
  for (int i = 0; i < n; i++)
    if (ps[i].pid == pid) return &ps[i];
  return NULL;
}

/* One recording: 0 as expected, 1 not, 2 inconclusive (try again): the
 * reuse was not exercised (the churn had lost its pid to another process
 * before the snapshot reached it), or events were lost (a busy host can
 * overflow the proc connector's socket while the snapshot is taken) and
 * something is wrong. */
static int record_churn(uint32_t source, const char *name) {
  static struct churn c;
  struct t_records r = {0};
  struct procrec_options o;
  const struct pr_rec_header *h;
  size_t off;
  void *hd = NULL;
  char why[512];
  int32_t rc;
  uint64_t first_snap = 0, last_t = 0;
  struct pid_state ps[MAX_PIDS];
  int n_ps = 0, wrong = 0, between = 0, missing = 0, snapshot_kid = 0, lost = 0;

  memset(&o, 0, sizeof(o));
  o.size = sizeof(o);
  o.source = source;
  o.flags = PR_OPT_NO_HASH;
  rc = procrec_open(&o, &hd); /* loading the BPF programs takes a while: before the churn */
  if (rc != PR_OK) {
    procrec_last_error(NULL, why, sizeof(why));
    if (source == PR_SOURCE_EBPF && rc == PR_E_NOSUP) {
      printf("skip %s: %s\n", name, why);
      return 0;
    }
    fprintf(stderr, "procrec_open %s: %d: %s\n", name, rc, why);
    return 1;
  }
  CHECK(start_churn(&c) == 0);
  CHECK(procrec_start(hd) == PR_OK);
  for (uint64_t end = t_now_ms() + 400; t_now_ms() < end;) CHECK(t_read_some(hd, &r, 50) >= 0);
  CHECK(procrec_stop(hd) == PR_OK);
  while (t_read_some(hd, &r, 0) > 0) {
  }
  procrec_close(hd);
  CHECK(stop_churn(&c) == 0);
  CHECK(c.n > 0);
  memset(ps, 0, sizeof(ps));
  for (int i = 0; i < c.n; i++)
    if (!state_of(ps, n_ps, (uint32_t)c.kids[i].pid) && n_ps < MAX_PIDS) ps[n_ps++].pid = (uint32_t)c.kids[i].pid;

  for (off = 0; (h = t_next(&r, &off)) != NULL;) {
    struct pid_state *p;
    if (h->kind == PR_REC_HASH) continue;
    if (h->kind == PR_REC_LOST) lost++;
    if (h->mono_ns > last_t) last_t = h->mono_ns;
    if (h->kind == PR_REC_SNAPSHOT) {
      if (first_snap == 0) first_snap = h->mono_ns;
      for (int i = 0; i < n_ps; i++)
        if (h->pid >= ps[i].pid && ps[i].reached == 0) ps[i].reached = h->mono_ns;
    }
    if ((p = state_of(ps, n_ps, h->pid)) == NULL) continue;
    if (h->kind == PR_REC_SNAPSHOT) {
      p->cur = 2;
      p->cur_t = h->mono_ns;
    } else if (h->kind == PR_REC_PROCESS_CREATE) {
      /* the snapshot's process did not end: shown twice, or replaced unended */
      if (p->cur == 2 && wrong++ < 5)
        fprintf(stderr, "     %s: pid %u: a create after the snapshot record read at %.1f ms, before its exit\n", name,
                p->pid, (double)(int64_t)(p->cur_t - first_snap) / 1e6);
      p->cur = 1;
      p->cur_t = ((const struct pr_rec_process_create *)(const void *)h)->start_ns;
    } else if (h->kind == PR_REC_PROCESS_EXIT) {
      uint32_t status = ((const struct pr_rec_process_exit *)(const void *)h)->status;
      struct kid *k = kid_at(&c, h->pid, (int)(status >> 8) & 0xff, h->mono_ns);
      if (k != NULL) {
        int ok = p->cur ? k->t0 <= p->cur_t && p->cur_t <= k->t1
                        : k->t0 < first_snap; /* running before the recording began */
        if (!ok && wrong++ < 5)
          fprintf(stderr, "     %s: pid %u: child %d (%.1f to %.1f ms) ends after %s %.1f ms\n", name, p->pid, k->code,
                  (double)(int64_t)(k->t0 - first_snap) / 1e6, (double)(int64_t)(k->t1 - first_snap) / 1e6,
                  p->cur == 1   ? "a create of a process started at"
                  : p->cur == 2 ? "a snapshot record read at"
                                : "no create, at",
                  (double)(int64_t)((p->cur ? p->cur_t : h->mono_ns) - first_snap) / 1e6);
        if (ok) k->seen = 1;
        if (ok && p->cur == 2) snapshot_kid++;
      }
      p->cur = 0;
    }
  }
  for (int i = 0; i < c.n; i++) {
    struct pid_state *p = state_of(ps, n_ps, (uint32_t)c.kids[i].pid);
    if (p && p->reached && c.kids[i].t0 <= p->reached + 2000000 && p->reached <= c.kids[i].t1 + 2000000)
      p->held_at_read = 1;
  }
  for (int i = 0; i < c.n; i++) {
    const struct kid *k = &c.kids[i];
    const struct pid_state *p = state_of(ps, n_ps, (uint32_t)k->pid);
    uint64_t reached = p && p->reached ? p->reached : last_t;
    /* came and went before the snapshot read its pid, which the churn still held then */
    if (k->t0 > first_snap && k->t1 < reached && p && p->held_at_read) between++;
    if (k->t0 > first_snap && k->t1 < last_t && !k->seen && missing++ < 5)
      fprintf(stderr, "     %s: pid %d: child %d (%.1f to %.1f ms) not found\n", name, k->pid, k->code,
              (double)(int64_t)(k->t0 - first_snap) / 1e6, (double)(int64_t)(k->t1 - first_snap) / 1e6);
  }
  printf("     %s: pid %u (%d pids): %d children, %d came and went before the snapshot reached their pid, %d ended as "
         "the snapshot's; %d wrong, %d not found, %d losses\n",
         name, ps[0].pid, n_ps, c.n, between, snapshot_kid, wrong, missing, lost);
  if (lost > 0 && (wrong > 0 || missing > 0)) return 2;
  CHECK(wrong == 0);
  CHECK(missing == 0);
  free(r.buf);
  return between > 0 ? 0 : 2;
}

static int record_churn_exercised(uint32_t source, const char *name) {
  int rc = 2;
  for (int attempt = 0; attempt < 3 && rc == 2; attempt++) rc = record_churn(source, name);
  CHECK(rc != 2); /* three times inconclusive */
  return rc;
}

static int test_netlink_reuse(void) {
  return record_churn_exercised(PR_SOURCE_NETLINK, "netlink");
}

static int test_ebpf_reuse(void) {
  return record_churn_exercised(PR_SOURCE_EBPF, "ebpf");
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc != 2) {
    fprintf(stderr, "usage: test_snapshot_reuse PID_CHURN_HELPER\n");
    return 2;
  }
  helper = argv[1];
  if (geteuid() != 0) {
    printf("skip test_snapshot_reuse: needs root (ns_last_pid, the sources)\n");
    return 0;
  }
  signal(SIGPIPE, SIG_IGN);
  t_run("proc connector: a pid reused while the snapshot is taken gives every child its own create and exit",
        test_netlink_reuse);
  t_run("eBPF: a pid reused while the snapshot is taken gives every child its own create and exit",
        test_ebpf_reuse);
  printf("%d passed, %d failed\n", t_passed, t_failed);
  return t_failed == 0 ? 0 : 1;
}
