/*
 * snapshot.c - pr_lib_snapshot and pr_snapshot_take: one PR_REC_SNAPSHOT per
 * process running at start, read from /proc, emitted before any live record;
 * not of one whose create is to stand for it (snapshot_index.h).
 */
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/pr_record.h"
#include "procfs.h"
#include "snapshot_index.h"
#include "source.h"

void pr_lib_note_snapshot(struct pr_lib *lib, uint32_t pid, uint64_t read_ns, uint64_t start_ns); /* lib.c */

int pr_lib_snapshot(struct pr_lib *lib) {
  return pr_snapshot_take(lib, NULL, NULL);
}

int pr_snapshot_take(struct pr_lib *lib, pr_snap_live_fn created_live, void *ctx) {
  const struct procrec_options *o = pr_lib_options(lib);
  /* the source subscribed before this call: a process started later has its
   * creation in the stream */
  uint64_t t0 = pr_lib_mono_now();
  uint32_t cap = pr_procfs_record_cap(sizeof(struct pr_rec_snapshot), o->max_string);
  uint64_t *mem;
  DIR *d;
  struct dirent *de;

  if (o->flags & PR_OPT_NO_SNAPSHOT) return PR_OK;
  d = opendir("/proc");
  if (d == NULL) {
    pr_lib_set_error(lib, "Cannot take the process snapshot: opendir /proc: %s", strerror(errno));
    return PR_E_IO;
  }
  mem = malloc(cap + 8);
  if (mem == NULL) {
    closedir(d);
    pr_lib_set_error(lib, "Cannot take the process snapshot: out of memory");
    return PR_E_NOMEM;
  }
  while ((de = readdir(d)) != NULL) {
    struct pr_procfs_stat st;
    struct pr_builder b;
    struct pr_rec_snapshot *s;
    char *end;
    unsigned long pid = strtoul(de->d_name, &end, 10);
    uint64_t now, start;
    uint32_t size;
    int fd, gone;
    uint16_t flags;
    if (*end != 0 || end == de->d_name || pid == 0 || pid > UINT32_MAX) continue;
    fd = pr_procfs_open((uint32_t)pid, &st);
    if (fd < 0) continue; /* exited since readdir: its exit is in the live stream */
    now = pr_lib_mono_now();
    start = pr_procfs_start_mono(st.start_ticks, pr_lib_boot_minus_mono(lib));
    if (created_live ? created_live(ctx, (uint32_t)pid, start, now) : pr_snap_started_after(start, t0)) {
      close(fd); /* its create stands for it, after the pid's earlier processes */
      continue;
    }
    pr_rb_init(&b, mem, cap, PR_REC_SNAPSHOT, sizeof(struct pr_rec_snapshot));
    s = (struct pr_rec_snapshot *)(void *)mem;
    s->h.pid = (uint32_t)pid;
    s->h.tid = (uint32_t)pid;
    s->h.mono_ns = now;
    s->h.utc_ns = pr_lib_utc_ns(lib, now);
    s->parent_pid = st.ppid;
    s->start_ns = start;
    flags = pr_procfs_fill_info(&b, offsetof(struct pr_rec_snapshot, info), fd, &st, o->max_string, &gone);
    close(fd);
    s->h.flags |= flags;
    size = pr_rb_finish(&b);
    if (size > 0 && pr_lib_emit(lib, mem, size) == PR_OK) pr_lib_note_snapshot(lib, (uint32_t)pid, now, s->start_ns);
  }
  closedir(d);
  free(mem);
  return PR_OK;
}
