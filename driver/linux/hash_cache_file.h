/*
 * hash_cache_file.h - the image hash cache kept between runs of the
 * recorder (issue 16): the hasher's (dev, ino, size, mtime, ctime) ->
 * SHA-256 entries, saved at a clean stop and loaded at the next start, so
 * that a recorder started again in the same boot does not read unchanged
 * images again.
 *
 * Trust (a forensic tool takes these hashes as evidence):
 *   - bound to the boot: the file carries /proc/sys/kernel/random/boot_id,
 *     and one from another boot is ignored (device and inode numbers, and
 *     the file systems behind them, mean nothing across a reboot);
 *   - the same key and the same 2 s rule as the in-memory cache (hasher.h):
 *     an entry whose ctime is not older than the file's own time of writing
 *     is malformed; a file changed since has another key;
 *   - the medium: each entry of a block device's file system carries the
 *     device's diskseq (/sys/dev/block/MAJ:MIN/diskseq, a number the kernel
 *     gives each medium attached in the boot: a loop device set up again, a
 *     stick plugged in again get new ones) as it was when the file was hashed;
 *     an entry whose device now has another diskseq (or none) is dropped at
 *     load, silently (it is stale, not suspect): another file system under a
 *     reused device number may carry the same inode, size and times;
 *   - who may write it: the file must be a regular file (not a link), owned
 *     by the recorder's effective user (root for the system recorder), with
 *     no access for group or others (0600); its directory owned by root or
 *     that user and not writable by group or others; every directory above
 *     owned by root or that user and not writable by group or others unless
 *     sticky (as /tmp). Symbolic links in the directory's path are resolved
 *     first, then each directory is opened without following links;
 *   - written atomically: a new file (O_EXCL, 0600) in the same directory,
 *     renamed over the old one; a crash loses the update, never half a file;
 *     a torn file (no fsync) fails its checksum and is ignored;
 *   - bounded: at most PR_HASH_FILE_MAX entries (the in-memory cache's slots).
 * A file that fails a check is ignored with one warning naming it (and the
 * offset and field when malformed); a missing file is no cache yet, silently.
 *
 * Layout (little-endian):
 *   0   8   magic "PRHCACHE"
 *   8   4   version (2)
 *   12  4   entry size (80)
 *   16  16  boot id (the 16 bytes of boot_id's UUID)
 *   32  8   written at (UTC ns)
 *   40  4   entry count n
 *   44  4   reserved, 0
 *   48  80n entries: dev, ino, size (u64), mtime_ns, ctime_ns (i64), diskseq
 *           (u64, 0: not a block device), sha256
 *   48+80n 32  SHA-256 of the bytes before it
 */
#ifndef PR_LINUX_HASH_CACHE_FILE_H
#define PR_LINUX_HASH_CACHE_FILE_H

#include <stddef.h>
#include <stdint.h>

#define PR_HASH_FILE_MAGIC "PRHCACHE"
#define PR_HASH_FILE_VERSION 2u
#define PR_HASH_FILE_HEADER 48u
#define PR_HASH_FILE_ENTRY 80u
#define PR_HASH_FILE_MAX 8192u

struct pr_hash_entry {
  uint64_t dev, ino, size;
  int64_t mtime_ns, ctime_ns;
  uint64_t diskseq; /* of dev when the file was hashed; 0: not a block device */
  uint8_t sha[32];
};

/* The diskseq of the block device dev (st_dev), 0 when it is not one (major
 * 0: tmpfs, overlayfs, btrfs subvolumes, FUSE) or the kernel has none. */
uint64_t pr_hash_file_diskseq(uint64_t dev);

/* Reads this boot's id (16 bytes). Returns 0, or -1 with why set. */
int pr_hash_file_boot_id(uint8_t id[16], char *why, size_t cap);

/* Loads path: returns the number of entries kept (0 when it does not exist,
 * or its directory does not; entries of another medium dropped), *out
 * malloc'd (NULL when none); or a negative
 * PR_E_* with why set to the warning ("Cannot use the image hash cache
 * \"PATH\": ..."): PR_E_PERM (owner, mode, link, directory), PR_E_INVAL
 * (malformed, another boot), PR_E_IO (reading failed), PR_E_NOMEM. A
 * directory that fails the checks also sets *dir_refused (when not NULL):
 * the file is then neither used nor to be written there (the warning says
 * so); any other refused file is replaced by the next save. */
int pr_hash_file_load(const char *path, struct pr_hash_entry **out, char *why, size_t cap, int *dir_refused);

/* Writes n entries to path atomically (temp + rename), after the same
 * checks of its directory (made, 0700, when only its last component is
 * missing). Returns n, or a negative PR_E_* with why set ("Cannot save the
 * image hash cache \"PATH\": ..."). */
int pr_hash_file_save(const char *path, const struct pr_hash_entry *e, size_t n, char *why, size_t cap);

#endif /* PR_LINUX_HASH_CACHE_FILE_H */
