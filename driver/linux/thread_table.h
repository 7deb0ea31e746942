/*
 * thread_table.h - which threads of which process are alive, to tell a
 * thread's exit from its process's exit with the proc connector.
 *
 * The proc connector reports an exit per thread and does not say which one
 * ends the thread group. The table keeps the live non-leader threads (from
 * thread-create events, and /proc/<pid>/task at start) per process:
 *  - a non-leader thread exits: PR_REC_THREAD_EXIT; when it was the last
 *    thread and the leader had already exited, it carries PR_F_GROUP_DEAD and
 *    is followed by PR_REC_PROCESS_EXIT (status: that last exit code);
 *  - the leader (tid == pid) exits with no other known thread alive:
 *    PR_REC_PROCESS_EXIT only; with other threads alive: PR_REC_THREAD_EXIT
 *    of the leader now, PR_REC_PROCESS_EXIT when the last thread exits.
 *  - threads exiting after their leader carry PR_F_PROCESS_EXITING.
 *  - an exec of the process clears it (a non-leader exec kills every other
 *    thread and takes over the leader's tid).
 * After a lost event the counts can be too high: a thread whose exit was
 * lost stays counted, and its process's exit would wait for it forever. So
 * once a loss has passed (pr_thread_table_lost), a leader that exits while
 * others are still counted is watched: pr_thread_table_settle looks at
 * /proc/PID/task, and when the leader was alone there (or the process
 * gone), every other thread had gone through exit_notify; its exit event
 * follows within microseconds (do_exit sends it right after exit_notify,
 * which takes the thread off the list). So once a receive that started
 * PR_SETTLE_MARGIN_NS after that look found the socket empty and
 * everything received was emitted, the threads still counted are those
 * whose exits were lost, and the process exit is due (the leader's status;
 * the time of the look, the latest it can have been). Only leaders exiting
 * with others counted after a loss cost a look: none without a loss.
 * Used by the enricher thread only: no locking.
 */
#ifndef PR_LINUX_THREAD_TABLE_H
#define PR_LINUX_THREAD_TABLE_H

#include <stdint.h>

struct pr_u32map {
  uint32_t *keys; /* 0: empty */
  uint64_t *vals;
  uint32_t cap;   /* power of two */
  uint32_t len;
};

/* A leader that exited while others were counted, after a loss. */
struct pr_watch {
  uint32_t pid;
  int look;         /* /proc/PID/task is to be read (again) */
  uint64_t gone_at; /* mono ns after a look that found the leader alone; 0: not found so */
};

/* How long after a look an empty receive must start for the exits the look
 * implies to have been sent (a thread is off /proc/PID/task a moment before
 * its exit event is sent). */
#define PR_SETTLE_MARGIN_NS 10000000ull

struct pr_thread_table {
  struct pr_u32map threads; /* tid -> pid, live non-leader threads */
  struct pr_u32map procs;   /* pid -> live thread count | leader exited | status */
  int lossy;                /* an event was lost: the counts may be too high */
  struct pr_watch *watch;
  uint32_t n_watch, cap_watch;
};

/* A process whose end pr_thread_table_settle found. */
struct pr_ended {
  uint32_t pid;
  uint32_t status; /* its leader's exit status */
  uint64_t at;     /* mono ns: when it was known to have ended */
};

struct pr_exit_decision {
  int thread_exit;         /* emit PR_REC_THREAD_EXIT */
  uint16_t thread_flags;   /* its PR_F_* flags */
  int process_exit;        /* then emit PR_REC_PROCESS_EXIT */
  uint32_t process_status; /* with this wait status */
};

struct pr_stale_exit {
  uint32_t status;
};

int pr_thread_table_init(struct pr_thread_table *t);
void pr_thread_table_free(struct pr_thread_table *t);
/* Adds the threads running now (/proc/<pid>/task). */
void pr_thread_table_seed(struct pr_thread_table *t);
void pr_thread_table_new_thread(struct pr_thread_table *t, uint32_t pid, uint32_t tid);
/* A new process under pid: forgets what the table held for an earlier
 * process of that pid (possible after lost events). Returns 1 when that
 * process's leader had exited and its process exit was still pending (emit
 * it now, with *st's status). */
int pr_thread_table_new_process(struct pr_thread_table *t, uint32_t pid, struct pr_stale_exit *st);
void pr_thread_table_exec(struct pr_thread_table *t, uint32_t pid);
struct pr_exit_decision pr_thread_table_exit(struct pr_thread_table *t, uint32_t pid, uint32_t tid, uint32_t code);
/* An event was lost here: from now on the counts may be stale (see above). */
void pr_thread_table_lost(struct pr_thread_table *t);
/* Whether a watched process waits for a look or for a receive after one. */
int pr_thread_table_watching(const struct pr_thread_table *t);
/* Looks at the watched processes (/proc/PID/task) whose look is due and
 * fills ended (up to cap) with those found ended by a look before
 * drained_after (the start of a receive that found the socket empty, with
 * every event received until then emitted); forgets them. Returns how many
 * (cap: call again). */
uint32_t pr_thread_table_settle(struct pr_thread_table *t, uint64_t drained_after, struct pr_ended *ended,
                                uint32_t cap);

/* The map (exposed for tests). */
int pr_u32map_init(struct pr_u32map *m, uint32_t cap);
void pr_u32map_free(struct pr_u32map *m);
int pr_u32map_get(const struct pr_u32map *m, uint32_t key, uint64_t *val);
int pr_u32map_put(struct pr_u32map *m, uint32_t key, uint64_t val);
int pr_u32map_del(struct pr_u32map *m, uint32_t key);

#endif /* PR_LINUX_THREAD_TABLE_H */
