/*
 * mount_alias.h - the other paths of one file in a mount namespace, from its
 * mount table (proc(5): /proc/PID/mountinfo). Pure (no I/O): the enforcer
 * (exec_rules.c) reads the tables and the file's mount ID; this file parses
 * and translates. Unit-tested by tests/test_mount_alias.c.
 *
 * A mountinfo line is "ID PARENT MAJOR:MINOR ROOT POINT OPTIONS [TAGS...] -
 * FSTYPE SOURCE SUPER": ROOT is the path, within its file system, of the
 * directory (or file) the mount shows, POINT where it shows it, relative to
 * the root directory of the process whose table it is; both escape space,
 * tab, newline and backslash as \ooo. Every mount of one file system has
 * that file system's MAJOR:MINOR. So a path P reached through mount M is the
 * path M.ROOT + (P after M.POINT) in its file system, and any mount N of the
 * same MAJOR:MINOR whose ROOT is that path or one of its directories shows
 * it at N.POINT + (the rest after N.ROOT): a bind mount (of a directory or a
 * file), the same file system mounted twice.
 *
 * The names come from the table alone, not from a lookup: a mount hidden
 * under another one mounted over it (or over one of its directories) still
 * gives its name. A file system that shows another's files (overlayfs, FUSE
 * passthrough) has its own MAJOR:MINOR: its files are not aliases of the
 * lower ones.
 */
#ifndef PR_MOUNT_ALIAS_H
#define PR_MOUNT_ALIAS_H

#include <stddef.h>
#include <stdint.h>

struct pr_mount {
  uint32_t id;           /* mount ID (field 1): the mnt_id of /proc/PID/fdinfo/FD and statx(STATX_MNT_ID) */
  uint32_t major, minor; /* field 3 */
  const char *root;      /* field 4, unescaped: within the file system; not always a path ("net:[4026531840]") */
  size_t root_len;
  const char *point; /* field 5, unescaped: relative to the reading process's root directory */
  size_t point_len;
};

/* One parsed table; its strings point into `text`. Zeroed to start; reused
 * by each parse. */
struct pr_mount_table {
  struct pr_mount *m; /* sorted by id */
  size_t n, cap;
  char *text; /* the unescaped fields */
  size_t text_cap;
  size_t bad; /* lines not in the documented format (skipped) */
};

/* Parses a whole mountinfo text (len bytes, no NUL needed) into t, replacing
 * what t held. Lines that are not in the format are skipped and counted in
 * t->bad. 0, or -1 when memory ran out (t then holds no mount). */
int pr_mountinfo_parse(struct pr_mount_table *t, const char *text, size_t len);

void pr_mount_table_free(struct pr_mount_table *t);

/* The mount of t with this ID, or NULL. */
const struct pr_mount *pr_mount_find(const struct pr_mount_table *t, uint32_t id);

/* The path within its file system of `path` (len bytes), a path reached
 * through mount m, into out (NUL-terminated). `base` (base_len bytes) is
 * prefixed to m's mount point first: the path, in the same terms as `path`,
 * of the root directory of the process whose table m comes from ("" or "/"
 * when the two are named from the same root). Returns the length, or -1
 * when `path` is not at or below that mount point, m's root is not a path,
 * or the result does not fit in cap. */
long pr_mount_fs_path(const struct pr_mount *m, const char *base, size_t base_len, const char *path, size_t len,
                      char *out, size_t cap);

#define PR_ALIASES_MAX 32          /* names of one file, at most */
#define PR_ALIAS_BYTES (64 * 1024) /* their bytes together, NULs included */

struct pr_path_aliases {
  size_t n;
  const char *p[PR_ALIASES_MAX]; /* NUL-terminated, in buf */
  size_t len[PR_ALIASES_MAX];
  int cut; /* there were more than PR_ALIASES_MAX, or they did not fit in buf: the list is incomplete */
  char buf[PR_ALIAS_BYTES];
};

/* Every path at which the mounts of t show the file at fs_path (fs_len
 * bytes; a path within the file system MAJOR:MINOR, as pr_mount_fs_path
 * gives it), each once, in the table's order by mount ID, into a. Returns
 * a->n. */
size_t pr_mount_aliases(const struct pr_mount_table *t, uint32_t major, uint32_t minor, const char *fs_path,
                        size_t fs_len, struct pr_path_aliases *a);

#endif /* PR_MOUNT_ALIAS_H */
