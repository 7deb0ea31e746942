/*
 * pr_dll_hash.h - the image hash worker of procrec.dll (issue 12 item 5).
 *
 * procrec.dll hands it every process-create (not denied) and snapshot record
 * it stored (pr_dll_hash_note, from the reader: it only copies the pid, the
 * times and the image path into a queue); one worker thread of its own opens
 * the image file, hashes it with SHA-256 (driver/common/pr_sha256.c) and
 * emits a PR_REC_HASH record through the callback. No file is read on the
 * capture path.
 *
 * Which file: the image path of the create record (the kernel's name: \??\,
 * \Device\... and UNC forms are opened as \\?\ paths); for a snapshot (which
 * has only the short name) the running process's image
 * (QueryFullProcessImageNameW), if the process still exists and started when
 * the record says. Missing: PR_HASH_GONE (reason path-missing, or no-path
 * when the snapshot's process is gone). Another error: PR_HASH_ERROR with the
 * errno closest to the Win32 error. The records carry no file identity, so a
 * file whose change time is not older than the process's start (less
 * PR_DLL_HASH_GRANULE_NS) is PR_HASH_CHANGED (ctime-after-exec): it was
 * written, replaced or renamed into place since. The file's identity
 * (volume serial, file index, size, last write and change times) is taken
 * before and after reading: if it moved, PR_HASH_CHANGED
 * (changed-while-read), never a hash of other contents. (A process that
 * sets a file's change time back with SetFileInformationByHandle can hide
 * a change from this check; the Linux worker checks device and inode too.)
 *
 * Cache: (volume serial, file index, size, last write, change time) ->
 * SHA-256, the Linux worker's rule: a file whose change time is less than
 * PR_DLL_HASH_RACY_NS before the hashing started is not cached.
 *
 * Queue: at most PR_DLL_HASH_QUEUE jobs; a job that does not fit becomes a
 * PR_HASH_SKIPPED record (reason queue-full) at once and is counted. At stop
 * the worker goes on for PR_DLL_HASH_STOP_MS; what is left is PR_HASH_SKIPPED
 * (ECANCELED).
 */
#ifndef PR_DLL_HASH_H
#define PR_DLL_HASH_H

#include <stdint.h>

#define PR_DLL_HASH_QUEUE 4096u
#define PR_DLL_HASH_CACHE 1024u
#define PR_DLL_HASH_RACY_NS 2000000000ll
#define PR_DLL_HASH_GRANULE_NS 32000000ll /* two ticks of the 15.6 ms clock file times come from */
#define PR_DLL_HASH_STOP_MS 2000u
#define PR_DLL_HASH_PATH_UNITS 1024u

/* Where hash records go (under the caller's own lock). */
typedef void (*pr_dll_hash_emit_fn)(void *ctx, const void *rec, uint32_t size);

struct pr_dll_hasher;

/* Counters (read with pr_dll_hash_stats). */
struct pr_dll_hash_stats {
  uint64_t read, cached, bytes, skipped;
};

struct pr_dll_hasher *pr_dll_hash_create(pr_dll_hash_emit_fn emit, void *ctx);
/* Starts the worker thread: 0, or -1 when it cannot be created. */
int pr_dll_hash_start(struct pr_dll_hasher *hz);
/* Queues a stored record's image (other kinds, and denied creations, are
 * ignored). Never blocks on I/O. */
void pr_dll_hash_note(struct pr_dll_hasher *hz, const void *rec, uint32_t size);
void pr_dll_hash_pause(struct pr_dll_hasher *hz, int paused);
/* Hashes what is queued for up to PR_DLL_HASH_STOP_MS, skips the rest, joins
 * the thread. Idempotent. */
void pr_dll_hash_stop(struct pr_dll_hasher *hz);
void pr_dll_hash_stats(struct pr_dll_hasher *hz, struct pr_dll_hash_stats *out);
void pr_dll_hash_destroy(struct pr_dll_hasher *hz);

#endif /* PR_DLL_HASH_H */
