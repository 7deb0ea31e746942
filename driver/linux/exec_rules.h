/*
 * exec_rules.h - the enforcer of the exec rules (PR_OPT_EXEC_RULES): a
 * fanotify group with FAN_OPEN_EXEC_PERM marks on every file system of the
 * host, and a thread that answers each permission event at once.
 *
 * Why fanotify and not a BPF LSM program: on the kernel procrec is developed
 * on (6.18, BPF LSM active) the kernel refuses to load any BPF program that
 * needs a BPF trampoline (lsm/, fentry/: EPERM, even for two instructions),
 * while fanotify permission events are there. They give the same guarantees
 * for what procrec needs: the event carries an open file descriptor of the
 * very file the kernel is about to execute (its path as the kernel names it
 * and its device and inode: a symlink, a relative path or a hard link name
 * the same file), the caller waits for the answer, and the marks belong to
 * the group's file descriptor: when the recorder exits or is killed the
 * kernel removes them and lets every waiting exec go on.
 *
 * The thread never blocks on anything but the kernel: for each event it
 * reads the caller's /proc entries (ids, parent, cgroup; the new argv from
 * the caller's memory through /proc/TID/syscall and /proc/TID/mem: the
 * caller is blocked inside execve with its arguments still mapped) and, when
 * a rule has a path matcher, the file's other paths in this mount namespace
 * (the mount tables, mount_alias.h), decides (exec_match.h), answers, then
 * emits a PR_REC_EXEC_DECISION when a rule matched. It never executes
 * anything itself.
 */
#ifndef PR_EXEC_RULES_H
#define PR_EXEC_RULES_H

#include <stddef.h>

#include "exec_match.h"

struct pr_lib;
struct pr_enforcer;

/* PR_OK when this process may enforce exec rules here (fanotify with
 * permission events), else PR_E_NOSUP / PR_E_PERM and why. */
int pr_enforcer_probe(char *why, size_t n);

/* Marks every file system and starts the thread. The rules are copied.
 * Returns PR_OK or PR_E_* with the lib's error set. */
int pr_enforcer_start(struct pr_lib *lib, const struct pr_exec_rules *rules, struct pr_enforcer **out);

/* Stops the thread and closes the group (the kernel lets waiting execs on).
 * NULL is fine. */
void pr_enforcer_stop(struct pr_enforcer *e);

#endif /* PR_EXEC_RULES_H */
