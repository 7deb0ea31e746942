/*
 * nl_decode.c - see nl_decode.h.
 */
#include "nl_decode.h"

#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <string.h>

enum pr_nl_msg pr_nl_decode(const struct cn_msg *cn, size_t avail, struct pr_nl_ev *ev, uint32_t *seq) {
  struct proc_event pev; /* the event sits at offset 36: copy it to align its u64 */
  const struct proc_event *pe = &pev;
  memset(ev, 0, sizeof(*ev));
  *seq = 0;
  if (avail < sizeof(*cn) || cn->id.idx != CN_IDX_PROC || cn->id.val != CN_VAL_PROC) return PR_NL_MSG_IGNORE;
  if (cn->len > avail - sizeof(*cn) || cn->len < offsetof(struct proc_event, event_data)) return PR_NL_MSG_BAD;
  memset(&pev, 0, sizeof(pev));
  memcpy(&pev, cn->data, cn->len < sizeof(pev) ? cn->len : sizeof(pev));
  ev->what = pe->what;
  ev->cpu = pe->cpu;
  ev->ts = pe->timestamp_ns;
  *seq = cn->seq;
  /* An ack of some listener's (un)subscription has what == NONE. Kernels
   * that send it through the per-CPU path (send_msg) number it like any
   * event and stamp the CPU: it must count, or every other listener's start
   * and stop would look like a lost event. Older kernels send it with cpu -1
   * and the subscriber's own seq: not counted. */
  if (pe->what == PROC_EVENT_NONE) return pe->cpu == UINT32_MAX ? PR_NL_MSG_UNNUMBERED : PR_NL_MSG_NUMBERED;
  switch (pe->what) {
  case PROC_EVENT_FORK:
    ev->a = (uint32_t)pe->event_data.fork.parent_pid;
    ev->b = (uint32_t)pe->event_data.fork.parent_tgid;
    ev->c = (uint32_t)pe->event_data.fork.child_pid;
    ev->d = (uint32_t)pe->event_data.fork.child_tgid;
    return PR_NL_MSG_EVENT;
  case PROC_EVENT_EXEC:
    ev->a = (uint32_t)pe->event_data.exec.process_pid;
    ev->b = (uint32_t)pe->event_data.exec.process_tgid;
    return PR_NL_MSG_EVENT;
  case PROC_EVENT_EXIT:
    ev->a = (uint32_t)pe->event_data.exit.process_pid;
    ev->b = (uint32_t)pe->event_data.exit.process_tgid;
    ev->code = pe->event_data.exit.exit_code;
    ev->sig = pe->event_data.exit.exit_signal;
    return PR_NL_MSG_EVENT;
  case PROC_EVENT_COMM:
    ev->a = (uint32_t)pe->event_data.comm.process_pid;
    ev->b = (uint32_t)pe->event_data.comm.process_tgid;
    memcpy(ev->comm, pe->event_data.comm.comm, sizeof(ev->comm));
    return PR_NL_MSG_EVENT;
  default:
    return PR_NL_MSG_NUMBERED; /* uid, gid, sid, ptrace, coredump: sequence checked, nothing recorded */
  }
}
