/*
 * scripted_source.h - for tests built with lib.c, snapshot.c, procfs.c and
 * driver/common but no real source: defines pr_source_netlink and
 * pr_source_ebpf (see source.h) as a source whose only work is the start-up
 * snapshot, and keeps the library it was opened for in g_lib, so that the
 * test itself plays the source (pr_lib_emit, pr_lib_emit_lost) and reads its
 * clocks. Include it once, in the test's one file.
 */
#ifndef PROCREC_TESTS_SCRIPTED_SOURCE_H
#define PROCREC_TESTS_SCRIPTED_SOURCE_H

#include "../source.h"

static struct pr_lib *g_lib;

static int s_open(struct pr_lib *lib, char *why, size_t n) {
  (void)why;
  (void)n;
  g_lib = lib;
  return PR_OK;
}
static int s_start(struct pr_lib *lib) { return pr_lib_snapshot(lib); }
static int s_stop(struct pr_lib *lib) {
  (void)lib;
  return PR_OK;
}
static void s_close(struct pr_lib *lib) { (void)lib; }
static int s_control(struct pr_lib *lib, uint32_t op) {
  (void)lib;
  (void)op;
  return PR_OK;
}

const struct pr_source_ops pr_source_netlink = {
    .name = "netlink", .id = PR_SOURCE_NETLINK, .open = s_open, .start = s_start, .stop = s_stop,
    .close = s_close, .control = s_control};
const struct pr_source_ops pr_source_ebpf = {
    .name = "ebpf", .id = PR_SOURCE_EBPF, .open = s_open, .start = s_start, .stop = s_stop,
    .close = s_close, .control = s_control};

#endif
