/*
 * test_thread_table.c - the thread table that tells a thread's exit from
 * its process's exit (pure logic; run under ASan and UBSan).
 */
#include <stdlib.h>

#include "../thread_table.h"
#include "test_util.h"

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

int main(void) {
  t_run("pr_u32map keeps every key through inserts and deletes", test_map_survives_churn);
  t_run("a single-threaded process exits with one process exit", test_single_thread_process_exit);
  t_run("a leader exiting last ends the process", test_leader_last);
  t_run("a leader exiting first: the last thread ends the process", test_leader_first);
  t_run("a thread exec and a reused pid leave nothing stale", test_thread_exec_and_pid_reuse);
  printf("%d passed, %d failed\n", t_passed, t_failed);
  return t_failed == 0 ? 0 : 1;
}
