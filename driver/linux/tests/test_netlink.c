/*
 * test_netlink.c - the proc connector source of libprocrec.so against the
 * real kernel: what this program does itself (fork, exec, exit codes,
 * signals, threads, comm) must come back with the right parent and status
 * and no loss; a forced overflow must come back as lost records whose counts
 * are the sequence gaps. Capture needs root (CAP_NET_ADMIN); without it the
 * capture tests are skipped with the reason and the privilege test runs.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_util.h"

static int is_root;

static void *open_netlink(uint32_t flags, uint32_t rcvbuf) {
  struct procrec_options o;
  void *h = NULL;
  int32_t rc;
  memset(&o, 0, sizeof(o));
  o.size = sizeof(o);
  o.source = PR_SOURCE_NETLINK;
  o.flags = flags;
  o.rcvbuf_bytes = rcvbuf;
  rc = procrec_open(&o, &h);
  if (rc != PR_OK) {
    char err[512];
    procrec_last_error(NULL, err, sizeof(err));
    fprintf(stderr, "procrec_open: %d: %s\n", rc, err);
    return NULL;
  }
  return h;
}

/* ---- the scenario this process plays while recording ---- */

struct scenario {
  pid_t me, sh, killed, leader_exit, thread_exec, comm;
  pid_t threads[20];
  pid_t lx_thread; /* the thread of leader_exit (read from a pipe) */
  char sh_image[PATH_MAX];
};

static pid_t gettid_(void) { return (pid_t)syscall(SYS_gettid); }

struct tid_slot {
  pid_t tid;
};

static void *record_tid(void *arg) {
  ((struct tid_slot *)arg)->tid = gettid_();
  return NULL;
}

static int lx_pipe[2];
static void *lx_thread_main(void *arg) {
  pid_t t = gettid_();
  (void)arg;
  if (write(lx_pipe[1], &t, sizeof(t)) != sizeof(t)) _exit(90);
  usleep(50000);
  exit(5); /* the last thread ends the process with status 5 */
}

static void *exec_thread_main(void *arg) {
  char *argv[] = {"true", NULL};
  (void)arg;
  execv("/bin/true", argv);
  _exit(91);
}

static void play(struct scenario *sc) {
  struct tid_slot slots[20];
  pthread_t th[20];
  int i, st;

  sc->me = getpid();
  if (realpath("/bin/sh", sc->sh_image) == NULL) strcpy(sc->sh_image, "/bin/sh");

  /* A shell that runs a child and exits 3. */
  sc->sh = fork();
  if (sc->sh == 0) {
    execl("/bin/sh", "sh", "-c", "sleep 0.3; exit 3", (char *)NULL);
    _exit(92);
  }
  /* A process killed by a signal. */
  sc->killed = fork();
  if (sc->killed == 0) {
    kill(getpid(), SIGKILL);
    _exit(93);
  }
  /* Threads of this process. */
  for (i = 0; i < 20; i++) pthread_create(&th[i], NULL, record_tid, &slots[i]);
  for (i = 0; i < 20; i++) {
    pthread_join(th[i], NULL);
    sc->threads[i] = slots[i].tid;
  }
  /* A leader that exits first; its last thread ends the process. */
  if (pipe(lx_pipe) != 0) abort();
  sc->leader_exit = fork();
  if (sc->leader_exit == 0) {
    pthread_t t;
    close(lx_pipe[0]);
    pthread_create(&t, NULL, lx_thread_main, NULL);
    pthread_exit(NULL);
  }
  close(lx_pipe[1]);
  if (read(lx_pipe[0], &sc->lx_thread, sizeof(sc->lx_thread)) != sizeof(sc->lx_thread)) sc->lx_thread = -1;
  close(lx_pipe[0]);
  /* A non-leader thread that execs. */
  sc->thread_exec = fork();
  if (sc->thread_exec == 0) {
    pthread_t t;
    pthread_create(&t, NULL, exec_thread_main, NULL);
    pause();
    _exit(94);
  }
  /* A comm change. */
  sc->comm = fork();
  if (sc->comm == 0) {
    prctl(PR_SET_NAME, "procrec-comm", 0, 0, 0);
    _exit(0);
  }
  waitpid(sc->sh, &st, 0);
  waitpid(sc->killed, &st, 0);
  waitpid(sc->leader_exit, &st, 0);
  waitpid(sc->thread_exec, &st, 0);
  waitpid(sc->comm, &st, 0);
}

/* ---- finding records ---- */

/* The first record of kind for pid (and tid when not 0) at or after byte
 * offset `from`. */
static const struct pr_rec_header *find_from(const struct t_records *r, size_t from, uint16_t kind, uint32_t pid,
                                             uint32_t tid, size_t *at) {
  size_t off = from, pos;
  const struct pr_rec_header *h;
  for (pos = off; (h = t_next(r, &off)) != NULL; pos = off) {
    if (h->kind == kind && h->pid == pid && (tid == 0 || h->tid == tid)) {
      if (at) *at = pos;
      return h;
    }
  }
  return NULL;
}

/* Where this program's child pid was created (its create record names
 * this process as parent): on a busy host the pid may have served another
 * process earlier in the recording. SIZE_MAX when not found. */
static size_t child_from(const struct t_records *r, uint32_t pid) {
  size_t off = 0, pos;
  const struct pr_rec_header *h;
  for (pos = off; (h = t_next(r, &off)) != NULL; pos = off)
    if (h->kind == PR_REC_PROCESS_CREATE && h->pid == pid &&
        ((const struct pr_rec_process_create *)(const void *)h)->parent_pid == (uint32_t)getpid())
      return pos;
  return SIZE_MAX;
}

/* The first record of kind for pid (and tid) in the recording. */
static const struct pr_rec_header *find(const struct t_records *r, uint16_t kind, uint32_t pid, uint32_t tid,
                                        size_t *at) {
  return find_from(r, 0, kind, pid, tid, at);
}

/* The first record of kind of this program's child pid, from its create on. */
static const struct pr_rec_header *find_child(const struct t_records *r, uint16_t kind, uint32_t pid, uint32_t tid,
                                              size_t *at) {
  size_t from = child_from(r, pid);
  return from == SIZE_MAX ? NULL : find_from(r, from, kind, pid, tid, at);
}

/* Records of kind for this program's child pid, from its create on. */
static size_t count_child(const struct t_records *r, uint16_t kind, uint32_t pid) {
  size_t off = child_from(r, pid), n = 0;
  const struct pr_rec_header *h;
  if (off == SIZE_MAX) return 0;
  while ((h = t_next(r, &off)) != NULL)
    if (h->kind == kind && h->pid == pid) n++;
  return n;
}

static size_t count_kind(const struct t_records *r, uint16_t kind, uint32_t pid) {
  size_t off = 0, n = 0;
  const struct pr_rec_header *h;
  while ((h = t_next(r, &off)) != NULL)
    if (h->kind == kind && (pid == 0 || h->pid == pid)) n++;
  return n;
}

static int scenario_complete(const struct t_records *r, const struct scenario *sc) {
  int i;
  if (!find_child(r, PR_REC_PROCESS_EXIT, (uint32_t)sc->sh, 0, NULL)) return 0;
  if (!find_child(r, PR_REC_PROCESS_EXIT, (uint32_t)sc->killed, 0, NULL)) return 0;
  if (!find_child(r, PR_REC_PROCESS_EXIT, (uint32_t)sc->leader_exit, 0, NULL)) return 0;
  if (!find_child(r, PR_REC_PROCESS_EXIT, (uint32_t)sc->thread_exec, 0, NULL)) return 0;
  if (!find_child(r, PR_REC_PROCESS_EXIT, (uint32_t)sc->comm, 0, NULL)) return 0;
  for (i = 0; i < 20; i++)
    if (!find(r, PR_REC_THREAD_EXIT, (uint32_t)sc->me, (uint32_t)sc->threads[i], NULL)) return 0;
  return 1;
}

static int test_capture_own_activity(void) {
  struct scenario sc;
  struct t_records r = {0};
  struct procrec_stats stats;
  const struct pr_rec_header *h;
  const struct pr_rec_process_create *pc;
  const struct pr_rec_process_exit *pe;
  const struct pr_rec_exec *ex;
  size_t off, at_exec, at_exit, first_live = SIZE_MAX, last_snap = 0, pos;
  uint64_t deadline;
  char src[256];
  int i, saw_me = 0, saw_init = 0;
  void *hd;

  if (!is_root) {
    printf("skip capture: the proc connector needs CAP_NET_ADMIN (run as root)\n");
    return 0;
  }
  hd = open_netlink(0, 0);
  CHECK(hd != NULL);
  CHECK(procrec_source(hd, src, sizeof(src)) == PR_SOURCE_NETLINK);
  CHECK(strncmp(src, "netlink: ", 9) == 0);
  CHECK(procrec_start(hd) == PR_OK);
  CHECK(procrec_start(hd) == PR_E_STATE);
  play(&sc);
  deadline = t_now_ms() + 10000;
  while (!scenario_complete(&r, &sc) && t_now_ms() < deadline) CHECK(t_read_some(hd, &r, 200) >= 0);
  CHECK(procrec_stop(hd) == PR_OK);
  while (t_read_some(hd, &r, 0) > 0) {
  }
  CHECK(procrec_stats(hd, &stats) == PR_OK);
  procrec_close(hd);
  CHECK(scenario_complete(&r, &sc));

  /* Snapshot first: every snapshot record precedes every live record (hash
   * records are the hash worker's, about both: neither). */
  for (off = 0, pos = 0; (h = t_next(&r, &off)) != NULL; pos = off) {
    if (h->kind == PR_REC_SNAPSHOT) {
      const struct pr_rec_snapshot *s = (const void *)h;
      last_snap = pos;
      if (h->pid == (uint32_t)sc.me) saw_me = s->parent_pid == (uint32_t)getppid() && s->start_ns > 0 &&
                                              s->info.prov_image == PR_PROV_PROC && s->info.argc >= 1;
      if (h->pid == 1) saw_init = s->parent_pid == 0;
    } else if (h->kind != PR_REC_HASH && first_live == SIZE_MAX) {
      first_live = pos;
    }
  }
  CHECK(saw_me && saw_init);
  CHECK(last_snap < first_live);

  /* The shell: parent from the kernel, exec with /proc details, exit 3. */
  pc = (const void *)find_child(&r, PR_REC_PROCESS_CREATE, (uint32_t)sc.sh, 0, NULL);
  CHECK(pc != NULL && pc->parent_pid == (uint32_t)sc.me && pc->parent_tid == (uint32_t)sc.me);
  CHECK(pc->h.tid == (uint32_t)sc.sh && pc->start_ns == pc->h.mono_ns);
  ex = (const void *)find_child(&r, PR_REC_EXEC, (uint32_t)sc.sh, 0, &at_exec);
  CHECK(ex != NULL);
  CHECK(ex->info.prov_image == PR_PROV_PROC && strcmp(t_str(&ex->h, ex->info.image), sc.sh_image) == 0);
  CHECK(ex->info.prov_argv == PR_PROV_PROC && ex->info.argc == 3);
  /* As /proc/<pid>/cmdline has it: each argument NUL-terminated. */
  CHECK(ex->info.argv.len == 24 && memcmp((const uint8_t *)ex + ex->info.argv.off, "sh\0-c\0sleep 0.3; exit 3", 24) == 0);
  CHECK(ex->info.argv_full_len == 24);
  CHECK(ex->info.prov_cred == PR_PROV_PROC && ex->info.uid == getuid());
  CHECK(ex->info.prov_cwd == PR_PROV_PROC);
  pe = (const void *)find_child(&r, PR_REC_PROCESS_EXIT, (uint32_t)sc.sh, 0, &at_exit);
  CHECK(pe != NULL && pe->status == (3u << 8));
  CHECK((pe->h.flags & PR_F_EXIT_INFERRED) == 0); /* received, not inferred */
  CHECK(ex->start_ns == pc->start_ns && pe->start_ns == pc->start_ns); /* one identity */
  CHECK(at_exec < at_exit);
  CHECK(count_child(&r, PR_REC_PROCESS_EXIT, (uint32_t)sc.sh) == 1);
  /* Its child (sleep): parent is the shell. */
  {
    size_t o2 = 0;
    int found = 0;
    while ((h = t_next(&r, &o2)) != NULL)
      if (h->kind == PR_REC_PROCESS_CREATE && ((const struct pr_rec_process_create *)(const void *)h)->parent_pid ==
                                                  (uint32_t)sc.sh)
        found = 1;
    CHECK(found);
  }

  /* Killed by SIGKILL. */
  pe = (const void *)find_child(&r, PR_REC_PROCESS_EXIT, (uint32_t)sc.killed, 0, NULL);
  CHECK(pe != NULL && pe->status == SIGKILL);

  /* Threads of this process: create and exit, never a process exit. */
  for (i = 0; i < 20; i++) {
    const struct pr_rec_thread_create *tc =
        (const void *)find(&r, PR_REC_THREAD_CREATE, (uint32_t)sc.me, (uint32_t)sc.threads[i], NULL);
    const struct pr_rec_thread_exit *te =
        (const void *)find(&r, PR_REC_THREAD_EXIT, (uint32_t)sc.me, (uint32_t)sc.threads[i], NULL);
    CHECK(tc != NULL && tc->creator_pid == (uint32_t)sc.me);
    CHECK(te != NULL && te->status == 0 && (te->h.flags & PR_F_GROUP_DEAD) == 0);
  }
  CHECK(count_kind(&r, PR_REC_PROCESS_EXIT, (uint32_t)sc.me) == 0);

  /* Leader exits first: thread exit of the leader, then the last thread's
   * exit (group dead), then the process exit with its status. */
  {
    size_t a, b, c;
    const struct pr_rec_thread_exit *lead, *last;
    CHECK(sc.lx_thread > 0);
    lead = (const void *)find_child(&r, PR_REC_THREAD_EXIT, (uint32_t)sc.leader_exit, (uint32_t)sc.leader_exit, &a);
    last = (const void *)find_child(&r, PR_REC_THREAD_EXIT, (uint32_t)sc.leader_exit, (uint32_t)sc.lx_thread, &b);
    pe = (const void *)find_child(&r, PR_REC_PROCESS_EXIT, (uint32_t)sc.leader_exit, 0, &c);
    CHECK(lead != NULL && last != NULL && pe != NULL);
    CHECK(a < b && b < c);
    CHECK(last->h.flags & PR_F_GROUP_DEAD);
    CHECK(pe->status == (5u << 8));
    CHECK((pe->h.flags & PR_F_EXIT_INFERRED) == 0); /* no loss: received */
    CHECK(count_child(&r, PR_REC_PROCESS_EXIT, (uint32_t)sc.leader_exit) == 1);
  }

  /* A thread that execs: the exec is the process's, and it exits once. */
  {
    size_t a, b;
    ex = (const void *)find_child(&r, PR_REC_EXEC, (uint32_t)sc.thread_exec, 0, &a);
    pe = (const void *)find_child(&r, PR_REC_PROCESS_EXIT, (uint32_t)sc.thread_exec, 0, &b);
    CHECK(ex != NULL && pe != NULL && a < b);
    CHECK(ex->h.tid == (uint32_t)sc.thread_exec);
    CHECK(pe->status == 0);
    CHECK(count_child(&r, PR_REC_PROCESS_EXIT, (uint32_t)sc.thread_exec) == 1);
  }

  /* comm */
  {
    const struct pr_rec_comm *c = (const void *)find_child(&r, PR_REC_COMM, (uint32_t)sc.comm, 0, NULL);
    CHECK(c != NULL && strcmp(t_str(&c->h, c->comm), "procrec-comm") == 0);
  }

  /* Sequence numbers +1 per record, UTC near now, nothing lost. */
  {
    uint64_t seq = 0;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    for (off = 0; (h = t_next(&r, &off)) != NULL; seq++) {
      CHECK(h->seq == seq);
      CHECK(h->size % 8 == 0);
    }
    CHECK(off == r.len);
    CHECK(stats.records == seq);
    CHECK(stats.bytes == r.len);
    pe = (const void *)find_child(&r, PR_REC_PROCESS_EXIT, (uint32_t)sc.sh, 0, NULL);
    CHECK(llabs((long long)(pe->h.utc_ns / 1000000000ull) - (long long)now.tv_sec) < 30);
  }
  for (off = 0; (h = t_next(&r, &off)) != NULL;)
    if (h->kind == PR_REC_LOST) {
      const struct pr_rec_lost *l = (const void *)h;
      fprintf(stderr, "     lost: reason %u, count %llu, cpu %d, flags %#x\n", l->reason,
              (unsigned long long)l->count, (int)l->cpu, h->flags);
    }
  CHECK(count_kind(&r, PR_REC_LOST, 0) == 0);
  CHECK(stats.lost_total == 0 && stats.lost_enobufs == 0);
  CHECK(stats.kernel_msgs > 0 && stats.enrich_ok > 0);
  printf("     %zu bytes of records, %llu kernel messages, enrichment %llu ok / %llu gone\n", r.len,
         (unsigned long long)stats.kernel_msgs, (unsigned long long)stats.enrich_ok,
         (unsigned long long)stats.enrich_gone);
  free(r.buf);
  return 0;
}

/* ---- forced loss ---- */

/* Forks a child on each CPU so that every CPU sends a message after the
 * overflow: a gap is only seen when the next message of its CPU arrives. */
static void sentinels(pid_t *out, int *n) {
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  int c;
  *n = 0;
  for (c = 0; c < ncpu && c < 256; c++) {
    cpu_set_t set;
    pid_t p;
    CPU_ZERO(&set);
    CPU_SET(c, &set);
    p = fork();
    if (p == 0) {
      sched_setaffinity(0, sizeof(set), &set);
      _exit(0);
    }
    out[(*n)++] = p;
    waitpid(p, NULL, 0);
  }
}

/* The kernel's count of messages it could not deliver to this process's
 * proc connector socket (the Drops column of /proc/net/netlink), or -1. */
static long long socket_drops(void) {
  unsigned long inodes[64];
  int n = 0;
  long long drops = -1;
  char line[512];
  DIR *d = opendir("/proc/self/fd");
  struct dirent *de;
  FILE *f;
  if (d == NULL) return -1;
  while ((de = readdir(d)) != NULL && n < 64) {
    char path[300], link[64];
    ssize_t k;
    snprintf(path, sizeof(path), "/proc/self/fd/%s", de->d_name);
    k = readlink(path, link, sizeof(link) - 1);
    if (k > 0) {
      link[k] = 0;
      if (sscanf(link, "socket:[%lu]", &inodes[n]) == 1) n++;
    }
  }
  closedir(d);
  f = fopen("/proc/net/netlink", "r");
  if (f == NULL) return -1;
  while (fgets(line, sizeof(line), f) != NULL) {
    char sk[32];
    int eth, i;
    unsigned long pid, groups, rmem, wmem, dump, locks, ino;
    unsigned long long dr;
    if (sscanf(line, "%31s %d %lu %lx %lu %lu %lu %lu %llu %lu", sk, &eth, &pid, &groups, &rmem, &wmem, &dump, &locks,
               &dr, &ino) != 10 || eth != 11)
      continue;
    for (i = 0; i < n; i++)
      if (inodes[i] == ino) drops = (long long)dr;
  }
  fclose(f);
  return drops;
}

static int test_forced_loss_matches_sequence_gaps(void) {
  struct t_records r = {0};
  struct procrec_stats stats;
  const struct pr_rec_header *h;
  pid_t burst[3000], sent[256];
  int nsent, i, burst_seen_exits = 0, all_seen;
  long long drops_before = -1, drops_after = -1;
  uint8_t *in_burst = NULL;
  uint64_t deadline, gap_sum = 0, enobufs = 0;
  size_t off, first_lost = SIZE_MAX, pos, last_sentinel_exit = 0;
  void *hd;

  if (!is_root) {
    printf("skip forced loss: the proc connector needs CAP_NET_ADMIN (run as root)\n");
    return 0;
  }
  hd = open_netlink(PR_OPT_NO_SNAPSHOT | PR_OPT_NO_ENRICH, 256 << 10);
  CHECK(hd != NULL);
  CHECK(procrec_start(hd) == PR_OK);
  CHECK(procrec_control(hd, PR_CTL_PAUSE_READER, NULL, 0) == PR_OK);
  for (i = 0; i < 3000; i++) {
    burst[i] = fork();
    if (burst[i] == 0) _exit(7);
    waitpid(burst[i], NULL, 0);
  }
  CHECK(procrec_control(hd, PR_CTL_RESUME_READER, NULL, 0) == PR_OK);
  in_burst = calloc(1u << 22, 1);
  CHECK(in_burst != NULL);
  for (i = 0; i < 3000; i++)
    if (burst[i] > 0 && (uint32_t)burst[i] < (1u << 22)) in_burst[burst[i]] = 1;
  /* Rounds of sentinels until one round is seen whole (the tiny buffer can
   * overflow again on a busy host; a lost sentinel is counted like any). */
  deadline = t_now_ms() + 20000;
  do {
    uint64_t round_end;
    usleep(20000);
    drops_before = socket_drops();
    sentinels(sent, &nsent);
    round_end = t_now_ms() + 1000;
    do {
      CHECK(t_read_some(hd, &r, 100) >= 0);
      all_seen = 1;
      for (i = 0; i < nsent; i++)
        if (!find_child(&r, PR_REC_PROCESS_EXIT, (uint32_t)sent[i], 0, NULL)) all_seen = 0;
    } while (!all_seen && t_now_ms() < round_end);
  } while (!all_seen && t_now_ms() < deadline);
  CHECK(all_seen);
  drops_after = socket_drops();
  CHECK(procrec_stats(hd, &stats) == PR_OK);

  for (off = 0, pos = 0; (h = t_next(&r, &off)) != NULL; pos = off) {
    if (h->kind == PR_REC_LOST) {
      const struct pr_rec_lost *l = (const void *)h;
      if (first_lost == SIZE_MAX) first_lost = pos;
      CHECK(h->pid == 0 && h->tid == 0);
      if (l->reason == PR_LOST_SEQ_GAP) {
        CHECK(l->count > 0 && l->cpu < 4096 && (h->flags & PR_F_COUNT_UNKNOWN) == 0);
        gap_sum += l->count;
      } else if (l->reason == PR_LOST_ENOBUFS) {
        CHECK(l->count == 0 && (h->flags & PR_F_COUNT_UNKNOWN) && l->cpu == UINT32_MAX);
        enobufs++;
      } else {
        CHECK(!"unexpected lost reason");
      }
    } else if (h->kind == PR_REC_PROCESS_EXIT) {
      for (i = 0; i < nsent; i++)
        if (h->pid == (uint32_t)sent[i]) last_sentinel_exit = pos;
      /* A burst pid may be reused by another process on a busy host: only
       * exits with the burst's status are the burst's. */
      if (h->pid < (1u << 22) && in_burst[h->pid] &&
          ((const struct pr_rec_process_exit *)(const void *)h)->status == (7u << 8))
        burst_seen_exits++;
    }
  }
  printf("     burst of 3000 forks: %d exits seen, %llu ENOBUFS, %llu events lost in sequence gaps; "
         "kernel socket drops %lld before the last sentinels, %lld after\n",
         burst_seen_exits, (unsigned long long)enobufs, (unsigned long long)gap_sum, drops_before, drops_after);
  /* The kernel's own count of messages it dropped for this socket: every
   * drop before the last sentinels is revealed by them (one on each CPU);
   * a gap is a drop (or, rarely, a message the kernel failed to allocate
   * for every listener, which its drop count does not include). */
  CHECK(drops_before > 0 && drops_after >= drops_before);
  CHECK(gap_sum >= (uint64_t)drops_before);
  CHECK(gap_sum <= (uint64_t)drops_after + 16);
  /* Overflow happened and was reported where it happened: before the
   * sentinels that revealed it. */
  CHECK(enobufs >= 1);
  CHECK(gap_sum > 0);
  CHECK(first_lost < last_sentinel_exit);
  /* The counts in the stream are the stats' counts. */
  CHECK(stats.lost_seq_gap == gap_sum);
  CHECK(stats.lost_enobufs == enobufs);
  CHECK(stats.lost_total == gap_sum);
  /* Every burst event (a fork and an exit each) is either seen or counted
   * lost: the gaps account for at least the missing ones. */
  {
    size_t creates = 0;
    for (off = 0; (h = t_next(&r, &off)) != NULL;)
      if (h->kind == PR_REC_PROCESS_CREATE && h->pid < (1u << 22) && in_burst[h->pid] &&
          ((const struct pr_rec_process_create *)(const void *)h)->parent_pid == (uint32_t)getpid())
        creates++;
    CHECK((uint64_t)creates + (uint64_t)burst_seen_exits + gap_sum >= 6000);
  }
  procrec_close(hd);
  free(in_burst);
  free(r.buf);
  return 0;
}

/* ---- a process that execs twice ---- */

/* Reads records into r until the exit of pid is among them (10 s at most). */
static int read_until_exit(void *hd, struct t_records *r, pid_t pid) {
  uint64_t deadline = t_now_ms() + 10000;
  int seen;
  do {
    CHECK(t_read_some(hd, r, 200) >= 0);
    seen = find_child(r, PR_REC_PROCESS_EXIT, (uint32_t)pid, 0, NULL) != NULL;
  } while (!seen && t_now_ms() < deadline);
  CHECK(seen);
  return 0;
}

/* Records with the netlink source while n children, one after another,
 * exec path with argv, until the last one's exit is in r. */
static int record_execing_children(const char *path, char *const argv[], int n, pid_t *kids,
                                   struct t_records *r) {
  int i, all_seen;
  void *hd = open_netlink(PR_OPT_NO_SNAPSHOT, 0);
  CHECK(hd != NULL);
  CHECK(procrec_start(hd) == PR_OK);
  for (i = 0; i < n; i++) {
    kids[i] = fork();
    if (kids[i] == 0) {
      execv(path, argv);
      _exit(95);
    }
    waitpid(kids[i], NULL, 0);
    if (i % 50 == 49) CHECK(t_read_some(hd, r, 0) >= 0);
  }
  all_seen = read_until_exit(hd, r, kids[n - 1]) == 0;
  procrec_close(hd);
  CHECK(all_seen);
  return 0;
}

static int test_exec_never_borrows_a_later_image(void) {
  enum { N = 500 };
  struct t_records r = {0};
  pid_t kids[N];
  char env_img[PATH_MAX], true_img[PATH_MAX];
  char *argv[] = {"/usr/bin/env", "/bin/true", "twice", NULL};
  int i, enriched = 0;
  if (!is_root) {
    printf("skip double exec: needs root\n");
    return 0;
  }
  CHECK(realpath("/usr/bin/env", env_img) != NULL && realpath("/bin/true", true_img) != NULL);
  /* env execs true at once: by the time /proc is read for the first exec,
   * the second has often happened. */
  CHECK(record_execing_children(argv[0], argv, N, kids, &r) == 0);
  for (i = 0; i < N; i++) {
    size_t at1, at2;
    const struct pr_rec_exec *e1 = (const void *)find_child(&r, PR_REC_EXEC, (uint32_t)kids[i], 0, &at1), *e2;
    if (e1 == NULL) continue; /* lost (counted) */
    e2 = (const void *)find_from(&r, at1 + e1->h.size, PR_REC_EXEC, (uint32_t)kids[i], 0, &at2);
    CHECK(e2 != NULL);
    if (e1->info.prov_image == PR_PROV_PROC) {
      if (strcmp(t_str(&e1->h, e1->info.image), env_img) != 0)
        fprintf(stderr, "     pid %d: first exec (env) has image %s\n", kids[i], t_str(&e1->h, e1->info.image));
      CHECK(strcmp(t_str(&e1->h, e1->info.image), env_img) == 0);
      CHECK(e1->info.prov_argv == PR_PROV_PROC && e1->info.argc == 3 &&
            strcmp(t_str(&e1->h, e1->info.argv), "/usr/bin/env") == 0);
      enriched++;
    } else {
      CHECK(e1->info.prov_image == PR_PROV_GONE && e1->info.image.len == 0 && e1->info.argv.len == 0);
    }
    if (e2->info.prov_image == PR_PROV_PROC) {
      CHECK(strcmp(t_str(&e2->h, e2->info.image), true_img) == 0);
      CHECK(e2->info.prov_argv == PR_PROV_PROC && strcmp(t_str(&e2->h, e2->info.argv), "/bin/true") == 0);
      enriched++;
    }
  }
  printf("     %d of %d execs enriched from /proc, the others marked gone\n", enriched, 2 * N);
  free(r.buf);
  return 0;
}

/* A shell that execs its command a millisecond after its own exec (sh -c
 * 'exec ...'): the check that keeps a later exec's image from the first
 * (above) must not cost the first its values when /proc was read in time.
 * A design that waited 2 ms before trusting a read kept 1 of 300. How many
 * are read in time is the host's doing, not only the library's: 189-200 of
 * 200 on one VM build; 46-200 on a later one (Firecracker, kernel
 * 6.18.44-fc-v1147), where the /proc read takes ~200 us and the reader
 * thread's wake-ups, by socket or by timer, were seen up to 12 ms late. The
 * bar is set between what the old design kept and what that host gives. */
static int test_exec_soon_followed_keeps_its_values(void) {
  enum { N = 200 };
  struct t_records r = {0};
  pid_t kids[N];
  char sh_img[PATH_MAX];
  char *argv[] = {"/bin/sh", "-c", "exec /bin/true soon", NULL};
  int i, kept = 0;
  if (!is_root) {
    printf("skip exec then exec: needs root\n");
    return 0;
  }
  CHECK(realpath("/bin/sh", sh_img) != NULL);
  CHECK(record_execing_children(argv[0], argv, N, kids, &r) == 0);
  for (i = 0; i < N; i++) {
    size_t at1;
    const struct pr_rec_exec *e1 = (const void *)find_child(&r, PR_REC_EXEC, (uint32_t)kids[i], 0, &at1);
    if (e1 == NULL || e1->info.prov_image != PR_PROV_PROC) continue;
    CHECK(strcmp(t_str(&e1->h, e1->info.image), sh_img) == 0);
    CHECK(strcmp(t_str(&e1->h, e1->info.argv), "/bin/sh") == 0);
    kept++;
  }
  printf("     %d of %d shells' own execs kept their image and arguments\n", kept, N);
  CHECK(kept * 10 >= N);
  free(r.buf);
  return 0;
}

/* Forks a child that a tracer (this process) holds at its first stop, then
 * execs path with argv once continued, with the ptrace options given;
 * returns its pid, or -1. */
static pid_t fork_traced(const char *path, char *const argv[], long options) {
  int st;
  pid_t kid = fork();
  if (kid == 0) {
    if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) != 0) _exit(90);
    raise(SIGSTOP);
    execv(path, argv);
    _exit(95);
  }
  if (kid < 0 || waitpid(kid, &st, 0) != kid || !WIFSTOPPED(st) || WSTOPSIG(st) != SIGSTOP) return -1;
  if (ptrace(PTRACE_SETOPTIONS, kid, NULL, (void *)options) != 0) return -1;
  return kid;
}

/* A process held inside its next execve when /proc is read for its first
 * exec: the new image and arguments are in place, the kernel has not sent
 * that exec's event yet. A tracer's PTRACE_EVENT_EXEC stop is exactly
 * there (as is a wait for the disk while the new image is loaded), and it
 * can last any time: no margin covers it. The first exec must not get the
 * second's image; the second gets its own. */
static int test_exec_read_while_next_execve_is_held(void) {
  struct t_records r = {0};
  char sleep_img[PATH_MAX];
  char *argv[] = {"/usr/bin/env", "/bin/sleep", "0.3", NULL};
  const int exec_stop = SIGTRAP | (PTRACE_EVENT_EXEC << 8);
  const struct pr_rec_exec *e1, *e2;
  size_t at1, at2;
  pid_t kid;
  int st;
  uint64_t deadline;
  void *hd;
  if (!is_root) {
    printf("skip exec held by a tracer: needs root\n");
    return 0;
  }
  CHECK(realpath("/bin/sleep", sleep_img) != NULL);
  hd = open_netlink(PR_OPT_NO_SNAPSHOT, 0);
  CHECK(hd != NULL);
  CHECK(procrec_start(hd) == PR_OK);
  kid = fork_traced(argv[0], argv, PTRACE_O_TRACEEXEC);
  CHECK(kid > 0);
  /* The first exec's event waits in the socket while both execs happen. */
  CHECK(procrec_control(hd, PR_CTL_PAUSE_READER, NULL, 0) == PR_OK);
  CHECK(ptrace(PTRACE_CONT, kid, NULL, NULL) == 0);
  CHECK(waitpid(kid, &st, 0) == kid && WIFSTOPPED(st) && (st >> 8) == exec_stop); /* env */
  CHECK(ptrace(PTRACE_CONT, kid, NULL, NULL) == 0);
  CHECK(waitpid(kid, &st, 0) == kid && WIFSTOPPED(st) && (st >> 8) == exec_stop); /* sleep, unsent */
  CHECK(procrec_control(hd, PR_CTL_RESUME_READER, NULL, 0) == PR_OK);
  /* The source reads /proc for env's exec now (it shows sleep) and has
   * all the time it wants to decide. */
  deadline = t_now_ms() + 300;
  do {
    CHECK(t_read_some(hd, &r, 50) >= 0);
  } while (t_now_ms() < deadline);
  CHECK(ptrace(PTRACE_CONT, kid, NULL, NULL) == 0);
  CHECK(waitpid(kid, &st, 0) == kid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
  CHECK(read_until_exit(hd, &r, kid) == 0);
  procrec_close(hd);
  e1 = (const void *)find_child(&r, PR_REC_EXEC, (uint32_t)kid, 0, &at1);
  CHECK(e1 != NULL);
  e2 = (const void *)find_from(&r, at1 + e1->h.size, PR_REC_EXEC, (uint32_t)kid, 0, &at2);
  CHECK(e2 != NULL);
  if (e1->info.prov_image == PR_PROV_PROC)
    fprintf(stderr, "     first exec (env) has image %s, arguments %s\n", t_str(&e1->h, e1->info.image),
            t_str(&e1->h, e1->info.argv));
  CHECK(e1->info.prov_image == PR_PROV_GONE && e1->info.image.len == 0 && e1->info.argv.len == 0);
  CHECK(e2->info.prov_image == PR_PROV_PROC && strcmp(t_str(&e2->h, e2->info.image), sleep_img) == 0);
  CHECK(e2->info.prov_argv == PR_PROV_PROC && strcmp(t_str(&e2->h, e2->info.argv), "/bin/sleep") == 0);
  free(r.buf);
  return 0;
}

/* The other side of that check: a process stopped at the end of the very
 * exec that was read (a tracer's syscall-exit stop, as under strace -f;
 * /proc/PID/syscall shows execve there too) keeps its values once it goes
 * on, however long the stop. */
static int test_exec_held_at_its_own_syscall_exit_keeps_its_values(void) {
  struct t_records r = {0};
  char sleep_img[PATH_MAX];
  char *argv[] = {"/bin/sleep", "0.3", NULL};
  const struct pr_rec_exec *e1;
  size_t at1;
  pid_t kid;
  int st, exec_seen = 0;
  uint64_t deadline;
  void *hd;
  if (!is_root) {
    printf("skip exec held at its syscall exit: needs root\n");
    return 0;
  }
  CHECK(realpath("/bin/sleep", sleep_img) != NULL);
  hd = open_netlink(PR_OPT_NO_SNAPSHOT, 0);
  CHECK(hd != NULL);
  CHECK(procrec_start(hd) == PR_OK);
  kid = fork_traced(argv[0], argv, PTRACE_O_TRACEEXEC | PTRACE_O_TRACESYSGOOD);
  CHECK(kid > 0);
  /* syscall stops up to the exec's event stop, then its syscall-exit stop
   * (the exec's event is sent between the two) */
  for (;;) {
    CHECK(ptrace(PTRACE_SYSCALL, kid, NULL, NULL) == 0);
    CHECK(waitpid(kid, &st, 0) == kid && WIFSTOPPED(st));
    if (exec_seen && WSTOPSIG(st) == (SIGTRAP | 0x80)) break;
    if ((st >> 8) == (SIGTRAP | (PTRACE_EVENT_EXEC << 8))) exec_seen = 1;
  }
  /* held there while the source reads /proc and looks again and again */
  deadline = t_now_ms() + 50;
  do {
    CHECK(t_read_some(hd, &r, 10) >= 0);
  } while (t_now_ms() < deadline);
  CHECK(ptrace(PTRACE_DETACH, kid, NULL, NULL) == 0);
  CHECK(waitpid(kid, &st, 0) == kid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
  CHECK(read_until_exit(hd, &r, kid) == 0);
  procrec_close(hd);
  e1 = (const void *)find_child(&r, PR_REC_EXEC, (uint32_t)kid, 0, &at1);
  CHECK(e1 != NULL);
  CHECK(e1->info.prov_image == PR_PROV_PROC && strcmp(t_str(&e1->h, e1->info.image), sleep_img) == 0);
  CHECK(e1->info.prov_argv == PR_PROV_PROC && strcmp(t_str(&e1->h, e1->info.argv), "/bin/sleep") == 0);
  free(r.buf);
  return 0;
}

/* ---- other listeners ---- */

/* Subscribes and unsubscribes a fresh proc connector socket n times (what
 * another recorder does when it starts and stops). */
static void churn_listeners(int n) {
  int i;
  for (i = 0; i < n; i++) {
    struct {
      struct nlmsghdr nl;
      struct cn_msg cn;
      enum proc_cn_mcast_op op;
    } __attribute__((packed)) m;
    struct sockaddr_nl sa, to;
    int fd = socket(PF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_CONNECTOR);
    if (fd < 0) _exit(20);
    memset(&sa, 0, sizeof(sa));
    sa.nl_family = AF_NETLINK;
    sa.nl_groups = CN_IDX_PROC;
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) _exit(21);
    memset(&to, 0, sizeof(to));
    to.nl_family = AF_NETLINK;
    memset(&m, 0, sizeof(m));
    m.nl.nlmsg_len = sizeof(m);
    m.nl.nlmsg_type = NLMSG_DONE;
    m.cn.id.idx = CN_IDX_PROC;
    m.cn.id.val = CN_VAL_PROC;
    m.cn.len = sizeof(m.op);
    m.op = PROC_CN_MCAST_LISTEN;
    sendto(fd, &m, sizeof(m), 0, (struct sockaddr *)&to, sizeof(to));
    m.op = PROC_CN_MCAST_IGNORE;
    sendto(fd, &m, sizeof(m), 0, (struct sockaddr *)&to, sizeof(to));
    close(fd);
  }
}

static int test_other_listeners_are_not_loss(void) {
  struct t_records r = {0};
  struct procrec_stats stats;
  const struct pr_rec_header *h;
  pid_t p, q;
  int st;
  size_t off;
  uint64_t deadline;
  void *hd;
  if (!is_root) {
    printf("skip other listeners: needs root\n");
    return 0;
  }
  hd = open_netlink(PR_OPT_NO_SNAPSHOT, 0);
  CHECK(hd != NULL);
  CHECK(procrec_start(hd) == PR_OK);
  /* The kernel acknowledges each (un)subscription with a message that, on
   * recent kernels, takes a per-CPU sequence number: not a loss. */
  p = fork();
  if (p == 0) {
    churn_listeners(300);
    _exit(0);
  }
  CHECK(waitpid(p, &st, 0) == p && WIFEXITED(st) && WEXITSTATUS(st) == 0);
  q = fork(); /* a marker after the churn */
  if (q == 0) _exit(0);
  waitpid(q, NULL, 0);
  deadline = t_now_ms() + 10000;
  while (!find_child(&r, PR_REC_PROCESS_EXIT, (uint32_t)q, 0, NULL) && t_now_ms() < deadline)
    CHECK(t_read_some(hd, &r, 200) >= 0);
  CHECK(procrec_stats(hd, &stats) == PR_OK);
  procrec_close(hd);
  CHECK(find_child(&r, PR_REC_PROCESS_EXIT, (uint32_t)q, 0, NULL) != NULL);
  for (off = 0; (h = t_next(&r, &off)) != NULL;)
    if (h->kind == PR_REC_LOST) {
      const struct pr_rec_lost *l = (const void *)h;
      fprintf(stderr, "     lost: reason %u, count %llu, cpu %d\n", l->reason, (unsigned long long)l->count,
              (int)l->cpu);
    }
  CHECK(count_kind(&r, PR_REC_LOST, 0) == 0 && stats.lost_total == 0);
  free(r.buf);
  return 0;
}

/* A loss shows only against a later message of its CPU: stop sends one
 * from each CPU first, so losses right before the stop are counted too. */
static int test_loss_just_before_stop_is_counted(void) {
  struct t_records r = {0};
  struct procrec_stats stats;
  const struct pr_rec_header *h;
  uint64_t gap_sum = 0;
  long long drops;
  size_t off;
  int i;
  void *hd;
  if (!is_root) {
    printf("skip loss before stop: needs root\n");
    return 0;
  }
  hd = open_netlink(PR_OPT_NO_SNAPSHOT | PR_OPT_NO_ENRICH, 4096);
  CHECK(hd != NULL);
  CHECK(procrec_start(hd) == PR_OK);
  CHECK(procrec_control(hd, PR_CTL_PAUSE_READER, NULL, 0) == PR_OK);
  for (i = 0; i < 1000; i++) {
    pid_t p = fork();
    if (p == 0) _exit(0);
    waitpid(p, NULL, 0);
  }
  CHECK(procrec_stop(hd) == PR_OK); /* no resume, no later activity */
  while (t_read_some(hd, &r, 0) > 0) {
  }
  drops = socket_drops(); /* the socket lives until close */
  CHECK(procrec_stats(hd, &stats) == PR_OK);
  procrec_close(hd);
  for (off = 0; (h = t_next(&r, &off)) != NULL;)
    if (h->kind == PR_REC_LOST && ((const struct pr_rec_lost *)(const void *)h)->reason == PR_LOST_SEQ_GAP)
      gap_sum += ((const struct pr_rec_lost *)(const void *)h)->count;
  printf("     %llu events lost in sequence gaps, kernel socket drops %lld\n", (unsigned long long)gap_sum, drops);
  CHECK(drops > 0);
  CHECK(gap_sum >= (uint64_t)drops && gap_sum <= (uint64_t)drops + 16);
  CHECK(stats.lost_seq_gap == gap_sum);
  free(r.buf);
  return 0;
}

/* A full library ring: the source's own loss counts still reach the stream
 * under their own reason, and the ring's drops under ring_full. */
static int test_full_ring_keeps_every_loss_reason(void) {
  struct procrec_options o;
  struct t_records r = {0};
  struct procrec_stats stats;
  const struct pr_rec_header *h;
  uint64_t by_reason[8] = {0};
  size_t off;
  int i;
  void *hd = NULL;
  if (!is_root) {
    printf("skip full ring: needs root\n");
    return 0;
  }
  memset(&o, 0, sizeof(o));
  o.size = sizeof(o);
  o.source = PR_SOURCE_NETLINK;
  o.flags = PR_OPT_NO_SNAPSHOT | PR_OPT_NO_ENRICH;
  o.rcvbuf_bytes = 64 << 10;
  o.ring_bytes = 64 << 10;
  o.max_string = 256;
  CHECK(procrec_open(&o, &hd) == PR_OK);
  CHECK(procrec_start(hd) == PR_OK);
  CHECK(procrec_control(hd, PR_CTL_PAUSE_READER, NULL, 0) == PR_OK);
  for (i = 0; i < 2000; i++) { /* overflows the socket while paused */
    pid_t p = fork();
    if (p == 0) _exit(0);
    waitpid(p, NULL, 0);
  }
  CHECK(procrec_control(hd, PR_CTL_RESUME_READER, NULL, 0) == PR_OK);
  for (i = 0; i < 2000; i++) { /* fills the unread 64 KiB ring */
    pid_t p = fork();
    if (p == 0) _exit(0);
    waitpid(p, NULL, 0);
  }
  CHECK(procrec_stop(hd) == PR_OK);
  while (t_read_some(hd, &r, 0) > 0) {
  }
  CHECK(procrec_stats(hd, &stats) == PR_OK);
  procrec_close(hd);
  for (off = 0; (h = t_next(&r, &off)) != NULL;)
    if (h->kind == PR_REC_LOST) {
      const struct pr_rec_lost *l = (const void *)h;
      if (l->reason < 8) by_reason[l->reason] += l->count;
    }
  printf("     in the stream: %llu seq gap, %llu ring full; library: %llu seq gap, %llu ring full\n",
         (unsigned long long)by_reason[PR_LOST_SEQ_GAP], (unsigned long long)by_reason[PR_LOST_RING_FULL],
         (unsigned long long)stats.lost_seq_gap, (unsigned long long)stats.lost_ring);
  CHECK(stats.lost_ring > 0 && stats.lost_seq_gap > 0);
  CHECK(by_reason[PR_LOST_SEQ_GAP] == stats.lost_seq_gap);
  CHECK(by_reason[PR_LOST_RING_FULL] == stats.lost_ring);
  CHECK(stats.lost_total == stats.lost_seq_gap + stats.lost_ring);
  free(r.buf);
  return 0;
}

/* Processes created while procrec_start subscribes and takes the snapshot:
 * each must appear once (a snapshot record, or a live create), never as
 * both, which would look like a reused pid. */
static int test_snapshot_and_live_stream_never_show_a_process_twice(void) {
  struct t_records r = {0};
  const struct pr_rec_header *h, *g;
  size_t off, off2;
  int st, twice = 0, snap_of_forker_children = 0;
  pid_t forker;
  void *hd;
  if (!is_root) {
    printf("skip snapshot overlap: needs root\n");
    return 0;
  }
  forker = fork();
  if (forker == 0) { /* a child every ms, each alive 300 ms */
    uint64_t end = t_now_ms() + 1500;
    while (t_now_ms() < end) {
      pid_t c = fork();
      if (c == 0) {
        usleep(300000);
        _exit(0);
      }
      usleep(1000);
      while (waitpid(-1, NULL, WNOHANG) > 0) {
      }
    }
    while (wait(NULL) > 0) {
    }
    _exit(0);
  }
  usleep(300000);
  hd = open_netlink(0, 0);
  CHECK(hd != NULL);
  CHECK(procrec_start(hd) == PR_OK);
  CHECK(waitpid(forker, &st, 0) == forker);
  while (t_read_some(hd, &r, 300) > 0) {
  }
  procrec_close(hd);
  for (off = 0; (h = t_next(&r, &off)) != NULL;) {
    if (h->kind != PR_REC_SNAPSHOT) continue;
    if (((const struct pr_rec_snapshot *)(const void *)h)->parent_pid == (uint32_t)forker) snap_of_forker_children++;
    for (off2 = off; (g = t_next(&r, &off2)) != NULL;) {
      if (g->kind == PR_REC_PROCESS_EXIT && g->pid == h->pid) break; /* later creates are pid reuse */
      if (g->kind == PR_REC_PROCESS_CREATE && g->pid == h->pid && g->mono_ns <= h->mono_ns) {
        fprintf(stderr, "     pid %u: a snapshot record and a create from before it\n", h->pid);
        twice++;
        break;
      }
    }
  }
  printf("     %d children of the forker in the snapshot\n", snap_of_forker_children);
  CHECK(snap_of_forker_children > 0);
  CHECK(twice == 0);
  free(r.buf);
  return 0;
}

/* ---- privilege, options, buffer ---- */

static int test_unprivileged_open_names_the_privilege(void) {
  pid_t p;
  int st;
  p = fork();
  if (p == 0) {
    struct procrec_options o;
    void *h = (void *)1;
    char err[512];
    int32_t rc;
    if (getuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) _exit(10);
    memset(&o, 0, sizeof(o));
    o.size = sizeof(o);
    o.source = PR_SOURCE_NETLINK;
    rc = procrec_open(&o, &h);
    procrec_last_error(NULL, err, sizeof(err));
    if (rc != PR_E_PERM) _exit(11);
    if (h != NULL) _exit(12);
    if (strstr(err, "CAP_NET_ADMIN") == NULL || strstr(err, "root") == NULL) _exit(13);
    o.source = PR_SOURCE_AUTO;
    rc = procrec_open(&o, &h);
    procrec_last_error(NULL, err, sizeof(err));
    if (rc != PR_E_PERM || strstr(err, "CAP_NET_ADMIN") == NULL) _exit(14);
    _exit(0);
  }
  CHECK(p > 0);
  CHECK(waitpid(p, &st, 0) == p);
  if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0)) fprintf(stderr, "child status %d\n", st);
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  return 0;
}

static int test_bad_options_and_small_buffer(void) {
  struct procrec_options o;
  void *h = NULL;
  char err[512];
  uint8_t small[16];
  memset(&o, 0, sizeof(o));
  o.size = 3;
  CHECK(procrec_open(&o, &h) == PR_E_ABI && h == NULL);
  procrec_last_error(NULL, err, sizeof(err));
  CHECK(strstr(err, "options size 3") != NULL);
  o.size = sizeof(o);
  o.source = 77;
  CHECK(procrec_open(&o, &h) == PR_E_INVAL);
  o.source = PR_SOURCE_NETLINK;
  o.ring_bytes = 1000;
  CHECK(procrec_open(&o, &h) == PR_E_INVAL);
  CHECK(procrec_abi_version() == PROCREC_ABI_VERSION);
  if (!is_root) return 0;
  h = open_netlink(0, 0); /* with the snapshot: records are waiting */
  CHECK(h != NULL);
  CHECK(procrec_start(h) == PR_OK);
  CHECK(procrec_read(h, small, sizeof(small), 1000) == PR_E_INVAL);
  CHECK(procrec_last_error(h, err, sizeof(err)) > 0 && strstr(err, "smaller than the next record") != NULL);
  CHECK(procrec_control(h, 99, NULL, 0) == PR_E_NOSUP);
  procrec_close(h);
  return 0;
}

static int test_auto_source_says_which(void) {
  struct procrec_options o;
  void *h = NULL;
  char src[256];
  int32_t id;
  if (!is_root) {
    printf("skip auto source: needs root\n");
    return 0;
  }
  memset(&o, 0, sizeof(o));
  o.size = sizeof(o);
  CHECK(procrec_open(&o, &h) == PR_OK);
  id = procrec_source(h, src, sizeof(src));
  printf("     auto: %s\n", src);
  CHECK((id == PR_SOURCE_EBPF && strncmp(src, "ebpf: ", 6) == 0) ||
        (id == PR_SOURCE_NETLINK && strncmp(src, "netlink: eBPF unavailable: ", 27) == 0));
  procrec_close(h);
  return 0;
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  is_root = geteuid() == 0;
  t_run("procrec_open without CAP_NET_ADMIN fails with PR_E_PERM and names the privilege",
        test_unprivileged_open_names_the_privilege);
  t_run("procrec_open rejects bad options; procrec_read refuses a buffer smaller than a record",
        test_bad_options_and_small_buffer);
  t_run("PR_SOURCE_AUTO reports the source it chose and why", test_auto_source_says_which);
  t_run("the proc connector source records this program's forks, execs, exits, threads and comm exactly",
        test_capture_own_activity);
  t_run("an exec record never carries the image of the process's later exec",
        test_exec_never_borrows_a_later_image);
  t_run("an exec followed within a millisecond by another keeps its own /proc values",
        test_exec_soon_followed_keeps_its_values);
  t_run("an exec read while the process is held inside its next execve does not get that exec's image",
        test_exec_read_while_next_execve_is_held);
  t_run("an exec read while a tracer holds the process at that exec's own syscall exit keeps its values",
        test_exec_held_at_its_own_syscall_exit_keeps_its_values);
  t_run("losses right before procrec_stop are counted (stop markers on every CPU)",
        test_loss_just_before_stop_is_counted);
  t_run("with the library ring full, every loss count still reaches the stream under its own reason",
        test_full_ring_keeps_every_loss_reason);
  t_run("a process created while the snapshot is taken appears once, not as snapshot and create",
        test_snapshot_and_live_stream_never_show_a_process_twice);
  t_run("other listeners subscribing and unsubscribing are not counted as lost events",
        test_other_listeners_are_not_loss);
  t_run("a forced socket overflow comes back as lost records whose counts are the sequence gaps",
        test_forced_loss_matches_sequence_gaps);
  printf("%d passed, %d failed\n", t_passed, t_failed);
  return t_failed == 0 ? 0 : 1;
}
