/*
 * hasher.h - the image hash worker of libprocrec.so (issue 12 item 3).
 *
 * lib.c hands it every exec and snapshot record it stored (pr_hasher_note,
 * called by the capture threads: it only copies a few fields into a queue);
 * one worker thread of its own opens the exec'd file, hashes it with SHA-256
 * and emits a PR_REC_HASH record through pr_lib_emit. So no file is ever read
 * on the capture path.
 *
 * Which file: /proc/PID/exe while the process still runs that image (same
 * device and inode as the exec record: the kernel denies writes to a file
 * that is being executed, so its contents are the ones exec'd); else the
 * image path, if it still names the same device and inode and its ctime is
 * older than the exec (else PR_HASH_CHANGED); else PR_HASH_GONE. A file whose
 * size, mtime or ctime moved while it was read is PR_HASH_CHANGED too.
 *
 * Each way is tried with a stat first: a file the cache holds is not opened.
 *
 * Cache: (dev, ino, size, mtime, ctime) -> SHA-256, direct-mapped, so a storm
 * of /bin/true reads the file once. The sources give the key with the exec
 * record (pr_lib_emit_keyed): the proc connector source stats the image
 * through /proc/PID/exe while it reads the exec's /proc details (the device
 * and inode of the exec record come from that stat, and the record is used
 * only if no later exec of the process came first); the eBPF program reads
 * the size and times of the inode the kernel exec'd (exec has denied writes
 * to it by then). With that key pr_hasher_note finds a cached image at once,
 * on the capture thread (a lookup, no file access), and the worker is not
 * woken for it. Files whose ctime is less than
 * PR_HASH_RACY_NS before the hashing started are not cached (a rewrite within
 * one timestamp tick would keep the key: the "racy" rule of git's index).
 *
 * The cache can be kept between runs in the same boot (PR_CTL_HASH_CACHE_LOAD
 * before start, PR_CTL_HASH_CACHE_SAVE while running or after stop:
 * hash_cache_file.h);
 * entries loaded from a file obey the same rules and give PR_H_CACHED too.
 *
 * Queue: at most PR_HASH_QUEUE_MAX jobs; a job that does not fit becomes a
 * PR_HASH_SKIPPED record at once (counted in hash_skipped), never silence.
 * Exec jobs go before snapshot jobs (a recording's own commands first, then
 * the processes that ran before it). At stop, the worker goes on for
 * PR_HASH_STOP_NS; what is left then is PR_HASH_SKIPPED with ECANCELED.
 */
#ifndef PR_LINUX_HASHER_H
#define PR_LINUX_HASHER_H

#include <stddef.h>
#include <stdint.h>

#include "procfs.h"
#include "source.h"

#define PR_HASH_QUEUE_MAX 65536u
#define PR_HASH_CACHE_SLOTS 8192u
#define PR_HASH_GRANULE_NS 20000000ll /* a file ctime this close before the exec may be a later write */
#define PR_HASH_RACY_NS 2000000000ll  /* not cached while ctime is this recent */
#define PR_HASH_STOP_NS 2000000000ull /* how long procrec_stop waits for the queue */
#define PR_HASH_MAX_BYTES (1ull << 30) /* an image larger is not read: PR_HASH_SKIPPED, EFBIG (too-large) */

struct pr_hasher;

/* Allocates a hasher that emits into lib. Returns PR_OK or PR_E_NOMEM. */
int pr_hasher_create(struct pr_lib *lib, struct pr_hasher **out);
/* Starts its thread. Returns PR_OK or PR_E_IO (with the lib's error set). */
int pr_hasher_start(struct pr_hasher *hz);
/* Queues the hashing of a stored exec or snapshot record (other kinds are
 * ignored). Thread-safe; never blocks on I/O. An exec that needs no file
 * access is done at once, on the caller's thread, without waking the
 * worker: one whose record has no device and inode (PR_HASH_GONE), and one
 * whose key (the image's stat through /proc/PID/exe while the process ran
 * it, the same stat as the record's device and inode: pr_lib_emit_keyed)
 * is in the cache (PR_HASH_OK, PR_H_VIA_EXE | PR_H_CACHED). key may be
 * NULL. */
void pr_hasher_note(struct pr_hasher *hz, const void *rec, uint32_t size, const struct pr_file_key *key);
struct pr_hash_entry; /* hash_cache_file.h */
/* Puts entries (of a cache file, PR_CTL_HASH_CACHE_LOAD) into the cache,
 * but those whose ctime is not PR_HASH_RACY_NS old. Returns how many. */
size_t pr_hasher_cache_add(struct pr_hasher *hz, const struct pr_hash_entry *e, size_t n);
/* The cache's entries (at most PR_HASH_CACHE_SLOTS), *out malloc'd (NULL and
 * 0 when out of memory), for PR_CTL_HASH_CACHE_SAVE. */
size_t pr_hasher_cache_export(struct pr_hasher *hz, struct pr_hash_entry **out);
/* PR_CTL_PAUSE_HASHER / RESUME (tests): the worker waits while paused. */
void pr_hasher_pause(struct pr_hasher *hz, int paused);
/* Drops the queued jobs (the ring started over). */
void pr_hasher_clear(struct pr_hasher *hz);
/* Hashes what is queued, then stops and joins the thread. Idempotent. */
void pr_hasher_stop(struct pr_hasher *hz);
void pr_hasher_destroy(struct pr_hasher *hz);

#endif /* PR_LINUX_HASHER_H */
