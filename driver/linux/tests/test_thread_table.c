/*
 * test_thread_table.c - the thread table that tells a thread's exit from
 * its process's exit (pure logic; run under ASan and UBSan).
 */
#include <pthread.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../thread_table.h"
#include "test_util.h"

/* lib.c's clock, which thread_table.c reads (no time namespace here). */
uint64_t pr_lib_mono_now(void);
uint64_t pr_lib_mono_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int test_map_survives_churn(void) {
  struct pr_u32map m;
  uint32_t i, k;
  uint64_t v;
  CHECK(pr_u32map_init(&m, 4) == 0);
  for (k = 0; k < 20; k++) {
    for (i = 1; i <= 5000; i++) CHECK(pr_u32map_put(&m, i * 7919u + k, i) == 0);
    for (i = 1; i <= 5000; i += 2) CHECK(pr_u32map_del(&m, i * 7919u + k) == 1);
    for (i = 1; i <= 5000; i++) {
      int has = pr_u32map_get(&m, i * 7919u + k, &v);
      CHECK(has == (i % 2 == 0));
      if (has) CHECK(v == i);
    }
    for (i = 2; i <= 5000; i += 2) CHECK(pr_u32map_del(&m, i * 7919u + k) == 1);
    CHECK(m.len == 0);
  }
  CHECK(pr_u32map_del(&m, 12345) == 0);
  CHECK(pr_u32map_put(&m, 0, 1) == -1);
  pr_u32map_free(&m);
  return 0;
}

static int test_single_thread_process_exit(void) {
  struct pr_thread_table t;
  struct pr_exit_decision d;
  CHECK(pr_thread_table_init(&t) == 0);
  d = pr_thread_table_exit(&t, 100, 100, 3u << 8);
  CHECK(!d.thread_exit && d.process_exit && d.process_status == (3u << 8));
  pr_thread_table_free(&t);
  return 0;
}

static int test_leader_last(void) {
  struct pr_thread_table t;
  struct pr_exit_decision d;
  CHECK(pr_thread_table_init(&t) == 0);
  pr_thread_table_new_thread(&t, 100, 101);
  pr_thread_table_new_thread(&t, 100, 101); /* seen twice (seed and event) */
  d = pr_thread_table_exit(&t, 100, 101, 0);
  CHECK(d.thread_exit && !d.process_exit && d.thread_flags == 0);
  d = pr_thread_table_exit(&t, 100, 100, 9);
  CHECK(!d.thread_exit && d.process_exit && d.process_status == 9);
  pr_thread_table_free(&t);
  return 0;
}

static int test_leader_first(void) {
  struct pr_thread_table t;
  struct pr_exit_decision d;
  CHECK(pr_thread_table_init(&t) == 0);
  pr_thread_table_new_thread(&t, 100, 101);
  pr_thread_table_new_thread(&t, 100, 102);
  d = pr_thread_table_exit(&t, 100, 100, 0);
  CHECK(d.thread_exit && !d.process_exit);
  d = pr_thread_table_exit(&t, 100, 101, 5u << 8);
  CHECK(d.thread_exit && !d.process_exit && d.thread_flags == PR_F_PROCESS_EXITING);
  d = pr_thread_table_exit(&t, 100, 102, 5u << 8);
  CHECK(d.thread_exit && d.process_exit && d.process_status == (5u << 8));
  CHECK(d.thread_flags == (PR_F_PROCESS_EXITING | PR_F_GROUP_DEAD));
  CHECK(t.procs.len == 0 && t.threads.len == 0);
  pr_thread_table_free(&t);
  return 0;
}

static int test_thread_exec_and_pid_reuse(void) {
  struct pr_thread_table t;
  struct pr_exit_decision d;
  struct pr_stale_exit st;
  CHECK(pr_thread_table_init(&t) == 0);
  /* A non-leader exec: the leader dies, the thread becomes the leader. */
  pr_thread_table_new_thread(&t, 100, 101);
  d = pr_thread_table_exit(&t, 100, 100, 9);
  CHECK(d.thread_exit && !d.process_exit);
  pr_thread_table_exec(&t, 100);
  d = pr_thread_table_exit(&t, 100, 100, 0);
  CHECK(d.process_exit && d.process_status == 0);
  CHECK(t.procs.len == 0 && t.threads.len == 0);
  /* Lost exits leave a stale process; a new process of that pid flushes it. */
  pr_thread_table_new_thread(&t, 200, 201);
  pr_thread_table_exit(&t, 200, 200, 1u << 8);
  CHECK(pr_thread_table_new_process(&t, 200, &st) == 1 && st.status == (1u << 8));
  CHECK(t.procs.len == 0 && t.threads.len == 0);
  CHECK(pr_thread_table_new_process(&t, 200, &st) == 0);
  pr_thread_table_free(&t);
  return 0;
}

static void *wait_for_pipe(void *arg) {
  char c;
  ssize_t n = read(*(int *)arg, &c, 1);
  (void)n;
  return NULL;
}

/* After a loss, a leader that exits with a thread still counted whose exit
 * was lost: its process ends once a look at /proc finds the leader alone
 * and a receive after that look found the socket empty. A real zombie and
 * this test's own process give the looks something to find. */
static int test_lost_thread_exits(void) {
  struct pr_thread_table t;
  struct pr_exit_decision d;
  struct pr_ended e[4];
  uint32_t self = (uint32_t)getpid(), zombie;
  pid_t child = fork();
  int fds[2];
  pthread_t th;
  if (child == 0) _exit(3);
  CHECK(child > 0);
  zombie = (uint32_t)child;
  usleep(50000); /* a zombie now: its task dir lists only the leader */
  CHECK(pr_thread_table_init(&t) == 0);
  /* no loss: no look, the process waits for its threads as before */
  pr_thread_table_new_thread(&t, zombie, 4000001);
  d = pr_thread_table_exit(&t, zombie, zombie, 3u << 8);
  CHECK(d.thread_exit && !d.process_exit && !pr_thread_table_watching(&t));
  CHECK(pr_thread_table_settle(&t, UINT64_MAX, e, 4) == 0);
  pr_thread_table_new_process(&t, zombie, &(struct pr_stale_exit){0});
  /* a loss, then the leader exits with a thread counted whose exit was lost */
  pr_thread_table_lost(&t);
  pr_thread_table_new_thread(&t, zombie, 4000001);
  d = pr_thread_table_exit(&t, zombie, zombie, 3u << 8);
  CHECK(d.thread_exit && !d.process_exit && pr_thread_table_watching(&t));
  /* the look finds the leader alone; the process ends only after a receive
   * that started after the look */
  CHECK(pr_thread_table_settle(&t, 1, e, 4) == 0 && pr_thread_table_watching(&t));
  CHECK(pr_thread_table_settle(&t, UINT64_MAX, e, 4) == 1);
  CHECK(e[0].pid == zombie && e[0].status == (3u << 8) && e[0].at > 1);
  CHECK(!pr_thread_table_watching(&t) && t.procs.len == 0 && t.threads.len == 0);
  /* the lost thread's exit arriving late after all: a plain thread exit */
  d = pr_thread_table_exit(&t, zombie, 4000001, 0);
  CHECK(d.thread_exit && !d.process_exit);
  waitpid(child, NULL, 0);

  /* a thread alive at the look: no process exit until it is gone */
  CHECK(pipe(fds) == 0);
  CHECK(pthread_create(&th, NULL, wait_for_pipe, &fds[0]) == 0);
  pr_thread_table_new_thread(&t, self, 4000002); /* alive (the thread above) */
  pr_thread_table_new_thread(&t, self, 4000003); /* its exit lost */
  d = pr_thread_table_exit(&t, self, self, 0);
  CHECK(pr_thread_table_settle(&t, UINT64_MAX, e, 4) == 0 && !pr_thread_table_watching(&t));
  close(fds[1]);
  pthread_join(th, NULL);
  close(fds[0]);
  d = pr_thread_table_exit(&t, self, 4000002, 0); /* its exit arrives: look again */
  CHECK(d.thread_exit && !d.process_exit && pr_thread_table_watching(&t));
  CHECK(pr_thread_table_settle(&t, 1, e, 4) == 0); /* the look */
  CHECK(pr_thread_table_settle(&t, UINT64_MAX, e, 4) == 1 && e[0].pid == self && e[0].status == 0);
  pr_thread_table_free(&t);
  return 0;
}

int main(void) {
  t_run("pr_u32map keeps every key through inserts and deletes", test_map_survives_churn);
  t_run("a single-threaded process exits with one process exit", test_single_thread_process_exit);
  t_run("a leader exiting last ends the process", test_leader_last);
  t_run("a leader exiting first: the last thread ends the process", test_leader_first);
  t_run("a thread exec and a reused pid leave nothing stale", test_thread_exec_and_pid_reuse);
  t_run("after a loss, a process whose thread exits were lost ends once /proc shows its leader alone",
        test_lost_thread_exits);
  printf("%d passed, %d failed\n", t_passed, t_failed);
  return t_failed == 0 ? 0 : 1;
}
