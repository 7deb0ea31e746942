/*
 * hasher.c - the image hash worker (see hasher.h for what it guarantees).
 */
#include "hasher.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../common/pr_sha256.h"
#include "hash_cache_file.h"

_Static_assert(PR_HASH_CACHE_SLOTS <= PR_HASH_FILE_MAX, "a saved cache file holds every slot");

#define READ_BUF (1u << 20)

/* pr_rec_hash.err for PR_HASH_CHANGED and PR_HASH_GONE (SCHEMA.md). */
enum {
  WHY_OTHER_FILE = 1,    /* changed: the path names another device/inode now */
  WHY_CTIME = 2,         /* changed: its ctime is not older than the exec */
  WHY_WHILE_READ = 3,    /* changed: size, mtime or ctime moved while it was read */
  WHY_NO_IDENTITY = 4,   /* gone: the exec record has no device/inode to check a file against */
  WHY_NO_PATH = 5,       /* gone: the process ended and the image has no usable path */
  WHY_PATH_MISSING = 6,  /* gone: the path does not exist any more */
};

struct job {
  struct job *next;
  int snap; /* a snapshot record's: after every exec's */
  uint32_t pid, tid;
  uint64_t start_ns, exec_ns, exec_utc;
  uint64_t dev, ino;
  int have_identity; /* dev/ino came from the kernel or /proc */
  int path_usable;   /* image is a path that can be opened (not memfd, deleted, cut) */
  uint32_t path_len;
  char path[];
};

struct slot {
  uint64_t dev, ino, size;
  int64_t mtime_ns, ctime_ns;
  uint64_t diskseq; /* of dev when hashed (hash_cache_file.h): checked when loaded again */
  uint8_t sha[32];
  int used;
};

struct pr_hasher {
  struct pr_lib *lib;
  pthread_mutex_t mu; /* guards the queue and the flags */
  pthread_cond_t cv;
  struct job *head[2], *tail[2]; /* [0] execs, [1] snapshots (hashed when no exec waits) */
  uint32_t queued;
  int paused, stopping, running;
  uint64_t stop_deadline; /* mono ns: after it, what is left is PR_HASH_SKIPPED */
  pthread_t thread;
  /* worker only */
  struct slot *cache;
  uint8_t *buf;
};

int pr_hasher_create(struct pr_lib *lib, struct pr_hasher **out) {
  struct pr_hasher *hz = calloc(1, sizeof(*hz));
  *out = NULL;
  if (hz == NULL) return PR_E_NOMEM;
  hz->cache = calloc(PR_HASH_CACHE_SLOTS, sizeof(*hz->cache));
  hz->buf = malloc(READ_BUF);
  if (hz->cache == NULL || hz->buf == NULL) {
    free(hz->cache);
    free(hz->buf);
    free(hz);
    return PR_E_NOMEM;
  }
  hz->lib = lib;
  pthread_mutex_init(&hz->mu, NULL);
  pthread_cond_init(&hz->cv, NULL);
  *out = hz;
  return PR_OK;
}

static int64_t ts_ns(struct timespec t) { return (int64_t)t.tv_sec * 1000000000ll + t.tv_nsec; }

static int64_t utc_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return ts_ns(t);
}

/* The cache key of a stat. */
static struct pr_file_key key_of(const struct stat *st) {
  struct pr_file_key k;
  k.dev = (uint64_t)st->st_dev;
  k.ino = (uint64_t)st->st_ino;
  k.size = (uint64_t)st->st_size;
  k.mtime_ns = ts_ns(st->st_mtim);
  k.ctime_ns = ts_ns(st->st_ctim);
  k.valid = 1;
  return k;
}

static void emit_key(struct pr_hasher *hz, const struct job *j, uint32_t status, uint32_t flags, uint32_t err,
                     const struct pr_file_key *k, const uint8_t *sha) {
  struct pr_rec_hash r;
  memset(&r, 0, sizeof(r));
  r.h.kind = PR_REC_HASH;
  r.h.size = sizeof(r);
  r.h.mono_ns = pr_lib_mono_now();
  r.h.utc_ns = pr_lib_utc_ns(hz->lib, r.h.mono_ns);
  r.h.pid = j->pid;
  r.h.tid = j->tid;
  r.start_ns = j->start_ns;
  r.exec_ns = j->exec_ns;
  r.status = status;
  r.hash_flags = flags;
  r.err = err;
  if (k != NULL) {
    r.dev = k->dev;
    r.ino = k->ino;
    r.size = k->size;
    r.mtime_ns = k->mtime_ns;
    r.ctime_ns = k->ctime_ns;
  }
  if (sha != NULL) memcpy(r.sha256, sha, 32);
  pr_lib_emit(hz->lib, &r, sizeof(r));
}

static void emit(struct pr_hasher *hz, const struct job *j, uint32_t status, uint32_t flags, uint32_t err,
                 const struct stat *st, const uint8_t *sha) {
  struct pr_file_key k;
  if (st != NULL) k = key_of(st);
  emit_key(hz, j, status, flags, err, st != NULL ? &k : NULL, sha);
}

static int same_state(const struct stat *a, const struct stat *b) {
  return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
         ts_ns(a->st_mtim) == ts_ns(b->st_mtim) && ts_ns(a->st_ctim) == ts_ns(b->st_ctim);
}

static struct slot *slot_of(struct pr_hasher *hz, const struct pr_file_key *k) {
  uint64_t h = k->dev * 0x9e3779b97f4a7c15ull ^ k->ino * 0xc2b2ae3d27d4eb4full ^ (uint64_t)k->ctime_ns;
  h ^= h >> 29;
  return &hz->cache[h % PR_HASH_CACHE_SLOTS];
}

/* Under hz->mu (pr_hasher_note looks the cache up from the capture threads). */
static int cache_get_locked(struct pr_hasher *hz, const struct pr_file_key *k, uint8_t sha[32]) {
  struct slot *s = slot_of(hz, k);
  if (!s->used || s->dev != k->dev || s->ino != k->ino || s->size != k->size || s->mtime_ns != k->mtime_ns ||
      s->ctime_ns != k->ctime_ns)
    return 0;
  memcpy(sha, s->sha, 32);
  return 1;
}

static int cache_get(struct pr_hasher *hz, const struct stat *st, uint8_t sha[32]) {
  struct pr_file_key k = key_of(st);
  int hit;
  pthread_mutex_lock(&hz->mu);
  hit = cache_get_locked(hz, &k, sha);
  pthread_mutex_unlock(&hz->mu);
  return hit;
}

/* Under hz->mu: the slot of k holds k's hash from now on. */
static void cache_set_locked(struct pr_hasher *hz, const struct pr_file_key *k, uint64_t diskseq,
                             const uint8_t sha[32]) {
  struct slot *s = slot_of(hz, k);
  s->dev = k->dev;
  s->ino = k->ino;
  s->size = k->size;
  s->mtime_ns = k->mtime_ns;
  s->ctime_ns = k->ctime_ns;
  s->diskseq = diskseq;
  memcpy(s->sha, sha, 32);
  s->used = 1;
}

static void cache_put(struct pr_hasher *hz, const struct stat *st, const uint8_t sha[32]) {
  struct pr_file_key k = key_of(st);
  uint64_t diskseq = pr_hash_file_diskseq(k.dev);
  pthread_mutex_lock(&hz->mu);
  cache_set_locked(hz, &k, diskseq, sha);
  pthread_mutex_unlock(&hz->mu);
}

/* The stop deadline passed (read without the lock: a late view costs one
 * more chunk). */
static int past_deadline(struct pr_hasher *hz) {
  uint64_t d = __atomic_load_n(&hz->stop_deadline, __ATOMIC_RELAXED);
  return d != 0 && pr_lib_mono_now() > d;
}

/* A file being hashed: a snapshot's may be suspended while execs go first. */
struct work {
  struct job *j;
  int fd;
  uint32_t via;
  struct stat st; /* when opened */
  struct pr_sha256 c;
  uint64_t bytes;
  int64_t started; /* UTC ns */
};

/* The checks of a file reached by the image path, from its stat: it must be
 * the exec's device and inode, and unchanged since the exec. Returns 1 when
 * it passes, else 0 with the job's record emitted. */
static int path_file_ok(struct pr_hasher *hz, const struct job *j, const struct stat *st) {
  if ((uint64_t)st->st_dev != j->dev || (uint64_t)st->st_ino != j->ino) {
    emit(hz, j, PR_HASH_CHANGED, PR_H_VIA_PATH, WHY_OTHER_FILE, st, NULL);
    return 0;
  }
  /* No process holds it any more: it could have been written after the
   * exec. ctime moves on every write (a coarse clock: allow a granule). */
  if (ts_ns(st->st_ctim) >= (int64_t)j->exec_utc - PR_HASH_GRANULE_NS) {
    emit(hz, j, PR_HASH_CHANGED, PR_H_VIA_PATH, WHY_CTIME, st, NULL);
    return 0;
  }
  return 1;
}

/* A cache hit for the file that stats as st: emitted. */
static int cached(struct pr_hasher *hz, const struct job *j, const struct stat *st, uint32_t via) {
  uint8_t sha[32];
  if (!cache_get(hz, st, sha)) return 0;
  pr_lib_count(hz->lib, PR_CNT_HASH_CACHED, 1);
  emit(hz, j, PR_HASH_OK, via | PR_H_CACHED, 0, st, sha);
  return 1;
}

/* Opens the exec'd file of j (see hasher.h) into w. Returns 1 when w is to be
 * hashed, 0 when the job is done (its record emitted). Each way is tried
 * with a stat first: a file already in the cache is not opened. */
static int open_job(struct pr_hasher *hz, struct job *j, struct work *w) {
  char exe[64];
  struct stat st;
  int fd = -1, err;

  memset(w, 0, sizeof(*w));
  w->j = j;
  w->fd = -1;
  w->started = utc_now();
  if (past_deadline(hz)) {
    pr_lib_count(hz->lib, PR_CNT_HASH_SKIPPED, 1);
    emit(hz, j, PR_HASH_SKIPPED, 0, ECANCELED, NULL, NULL);
    return 0;
  }
  if (!j->have_identity) {
    emit(hz, j, PR_HASH_GONE, 0, WHY_NO_IDENTITY, NULL, NULL);
    return 0;
  }
  /* The process's own image, while it still runs it (another process with
   * this pid, or a later exec, shows another device/inode). */
  snprintf(exe, sizeof(exe), "/proc/%u/exe", j->pid);
  w->via = PR_H_VIA_EXE;
  if (stat(exe, &st) == 0 && (uint64_t)st.st_dev == j->dev && (uint64_t)st.st_ino == j->ino) {
    if (cached(hz, j, &st, w->via)) return 0;
    fd = open(exe, O_RDONLY | O_CLOEXEC);
    if (fd >= 0 && (fstat(fd, &w->st) != 0 || (uint64_t)w->st.st_dev != j->dev || (uint64_t)w->st.st_ino != j->ino)) {
      close(fd); /* it exec'd again, or ended and its pid was reused, since the stat */
      fd = -1;
    }
  }
  if (fd < 0) {
    w->via = PR_H_VIA_PATH;
    if (!j->path_usable) {
      emit(hz, j, PR_HASH_GONE, w->via, WHY_NO_PATH, NULL, NULL);
      return 0;
    }
    if (stat(j->path, &st) != 0) {
      err = errno;
      if (err == ENOENT || err == ENOTDIR) emit(hz, j, PR_HASH_GONE, w->via, WHY_PATH_MISSING, NULL, NULL);
      else emit(hz, j, PR_HASH_ERROR, w->via, (uint32_t)err, NULL, NULL);
      return 0;
    }
    if (!path_file_ok(hz, j, &st) || cached(hz, j, &st, w->via)) return 0;
    fd = open(j->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
      err = errno;
      if (err == ENOENT || err == ENOTDIR) emit(hz, j, PR_HASH_GONE, w->via, WHY_PATH_MISSING, NULL, NULL);
      else emit(hz, j, PR_HASH_ERROR, w->via, (uint32_t)err, NULL, NULL);
      return 0;
    }
    if (fstat(fd, &w->st) != 0) {
      err = errno;
      close(fd);
      emit(hz, j, PR_HASH_ERROR, w->via, (uint32_t)err, NULL, NULL);
      return 0;
    }
    if (!path_file_ok(hz, j, &w->st)) { /* replaced or written since the stat */
      close(fd);
      return 0;
    }
  }
  if (cached(hz, j, &w->st, w->via)) {
    close(fd);
    return 0;
  }
  if ((uint64_t)w->st.st_size > PR_HASH_MAX_BYTES) {
    /* not read: a sparse file of terabytes would keep this thread reading
     * for hours, and every exec behind it waiting */
    close(fd);
    pr_lib_count(hz->lib, PR_CNT_HASH_SKIPPED, 1);
    emit(hz, j, PR_HASH_SKIPPED, w->via, EFBIG, &w->st, NULL);
    return 0;
  }
  w->fd = fd;
  pr_sha256_init(&w->c);
  return 1;
}

/* An exec job waits (a suspended snapshot hash gives way to it). */
static int exec_waiting(struct pr_hasher *hz) { return __atomic_load_n(&hz->head[0], __ATOMIC_RELAXED) != NULL; }

/* Reads w's file on to its end, then emits the result and closes it.
 * Returns 0 when done, 1 when it stopped for an exec job (may_yield), to be
 * called again. */
static int hash_work(struct pr_hasher *hz, struct work *w, int may_yield) {
  struct stat st2;
  uint8_t sha[32];
  int err = 0;
  for (;;) {
    ssize_t n;
    if (past_deadline(hz)) {
      err = ECANCELED;
      break;
    }
    if (may_yield && exec_waiting(hz)) return 1;
    /* at most one byte past the size it had when opened: a file grown
     * while it is read (a sparse file extended to terabytes) is changed,
     * not read to its new end */
    uint64_t left = (uint64_t)w->st.st_size + 1 - w->bytes;
    n = read(w->fd, hz->buf, left < READ_BUF ? (size_t)left : READ_BUF);
    if (n < 0) {
      if (errno == EINTR) continue;
      err = errno;
      break;
    }
    if (n == 0) break;
    pr_sha256_update(&w->c, hz->buf, (size_t)n);
    w->bytes += (uint64_t)n;
    pr_lib_count(hz->lib, PR_CNT_HASH_BYTES, (uint64_t)n);
    if (w->bytes > (uint64_t)w->st.st_size) break; /* grown: changed-while-read below */
  }
  if (err == 0 && fstat(w->fd, &st2) != 0) err = errno;
  close(w->fd);
  w->fd = -1;
  if (err == ECANCELED) {
    pr_lib_count(hz->lib, PR_CNT_HASH_SKIPPED, 1);
    emit(hz, w->j, PR_HASH_SKIPPED, w->via, ECANCELED, &w->st, NULL);
    return 0;
  }
  pr_lib_count(hz->lib, PR_CNT_HASH_READ, 1);
  if (err != 0) {
    emit(hz, w->j, PR_HASH_ERROR, w->via, (uint32_t)err, &w->st, NULL);
    return 0;
  }
  pr_sha256_final(&w->c, sha);
  if (!same_state(&w->st, &st2) || w->bytes != (uint64_t)w->st.st_size) {
    emit(hz, w->j, PR_HASH_CHANGED, w->via, WHY_WHILE_READ, &st2, NULL);
    return 0;
  }
  if (ts_ns(w->st.st_ctim) < w->started - PR_HASH_RACY_NS) cache_put(hz, &w->st, sha);
  emit(hz, w->j, PR_HASH_OK, w->via, 0, &w->st, sha);
  return 0;
}

static void *worker(void *arg) {
  struct pr_hasher *hz = arg;
  struct work cur, susp; /* susp.j != NULL: a snapshot's hash, suspended */
  memset(&susp, 0, sizeof(susp));
  pthread_setname_np(pthread_self(), "procrec-hash"); /* its CPU, apart in top and /proc */
  pthread_mutex_lock(&hz->mu);
  for (;;) {
    struct job *j = NULL;
    while (((hz->queued == 0 && susp.j == NULL) || (hz->paused && !hz->stopping)) &&
           !(hz->stopping && hz->queued == 0 && susp.j == NULL))
      pthread_cond_wait(&hz->cv, &hz->mu);
    if (hz->queued == 0 && susp.j == NULL) break; /* stopping, all done */
    if (hz->head[0] != NULL || susp.j == NULL) {
      int q = hz->head[0] != NULL ? 0 : 1;
      j = hz->head[q];
      hz->head[q] = j->next;
      if (hz->head[q] == NULL) hz->tail[q] = NULL;
      hz->queued--;
    }
    pthread_mutex_unlock(&hz->mu);
    if (j == NULL) { /* go on with the suspended snapshot hash */
      if (hash_work(hz, &susp, 1) == 0) {
        free(susp.j);
        susp.j = NULL;
      }
    } else if (!j->snap) {
      if (open_job(hz, j, &cur)) hash_work(hz, &cur, 0);
      free(j);
    } else if (open_job(hz, j, &cur) && hash_work(hz, &cur, 1)) {
      susp = cur; /* an exec came: it goes first */
    } else {
      free(j);
    }
    pthread_mutex_lock(&hz->mu);
  }
  pthread_mutex_unlock(&hz->mu);
  return NULL;
}

int pr_hasher_start(struct pr_hasher *hz) {
  int rc;
  pthread_mutex_lock(&hz->mu);
  hz->stopping = 0;
  hz->stop_deadline = 0;
  pthread_mutex_unlock(&hz->mu);
  rc = pr_start_thread(&hz->thread, worker, hz);
  if (rc != 0) {
    pr_lib_set_error(hz->lib, "procrec_start: cannot start the image hash thread: %s", strerror(rc));
    return PR_E_IO;
  }
  hz->running = 1;
  return PR_OK;
}

/* An exec job that needs no file access, done on the caller's thread (the
 * worker is not woken for it): no identity to check a file against, or a
 * key (the image stat'ed through /proc/PID/exe while it ran, as the record's
 * device and inode) that the cache holds. Not while paused (tests hold the
 * worker to change files behind it). Returns 1 when done. */
static int note_inline(struct pr_hasher *hz, const struct job *j, const struct pr_file_key *key) {
  uint8_t sha[32];
  int hit = 0;
  if (j->snap) return 0;
  if (j->have_identity && (key == NULL || !key->valid || key->dev != j->dev || key->ino != j->ino)) return 0;
  pthread_mutex_lock(&hz->mu);
  if (hz->paused) {
    pthread_mutex_unlock(&hz->mu);
    return 0;
  }
  if (j->have_identity) hit = cache_get_locked(hz, key, sha);
  pthread_mutex_unlock(&hz->mu);
  if (!j->have_identity) {
    emit(hz, j, PR_HASH_GONE, 0, WHY_NO_IDENTITY, NULL, NULL);
    return 1;
  }
  if (!hit) return 0;
  pr_lib_count(hz->lib, PR_CNT_HASH_CACHED, 1);
  emit_key(hz, j, PR_HASH_OK, PR_H_VIA_EXE | PR_H_CACHED, 0, key, sha);
  return 1;
}

void pr_hasher_note(struct pr_hasher *hz, const void *rec, uint32_t size, const struct pr_file_key *key) {
  struct pr_rec_header h;
  struct pr_proc_info info;
  const uint8_t *p = rec;
  struct job head, *j;
  uint32_t path_len = 0;

  if (hz == NULL || size < sizeof(h)) return;
  memcpy(&h, p, sizeof(h));
  memset(&head, 0, sizeof(head));
  if (h.kind == PR_REC_EXEC && size >= sizeof(struct pr_rec_exec)) {
    memcpy(&head.start_ns, p + offsetof(struct pr_rec_exec, start_ns), 8);
    memcpy(&info, p + offsetof(struct pr_rec_exec, info), sizeof(info));
  } else if (h.kind == PR_REC_SNAPSHOT && size >= sizeof(struct pr_rec_snapshot)) {
    memcpy(&head.start_ns, p + offsetof(struct pr_rec_snapshot, start_ns), 8);
    memcpy(&info, p + offsetof(struct pr_rec_snapshot, info), sizeof(info));
    head.snap = 1;
  } else {
    return;
  }
  head.pid = h.pid;
  head.tid = h.tid;
  head.exec_ns = h.mono_ns;
  head.exec_utc = h.utc_ns;
  head.dev = info.dev;
  head.ino = info.ino;
  head.have_identity = info.prov_file == PR_PROV_KERNEL || info.prov_file == PR_PROV_PROC;
  if (note_inline(hz, &head, key)) return;

  if (info.image.len > 0 && (uint64_t)info.image.off + info.image.len <= size) path_len = info.image.len;
  j = malloc(sizeof(*j) + path_len + 1);
  pthread_mutex_lock(&hz->mu);
  if (j == NULL || hz->queued >= PR_HASH_QUEUE_MAX) {
    pthread_mutex_unlock(&hz->mu);
    free(j);
    pr_lib_count(hz->lib, PR_CNT_HASH_SKIPPED, 1);
    emit(hz, &head, PR_HASH_SKIPPED, 0, j == NULL ? ENOMEM : 0, NULL, NULL);
    return;
  }
  *j = head;
  j->next = NULL;
  j->path_len = path_len;
  memcpy(j->path, p + info.image.off, path_len);
  j->path[path_len] = 0;
  j->path_usable = path_len > 0 && j->path[0] == '/' && memchr(j->path, 0, path_len) == NULL &&
                   !(h.flags & PR_F_IMAGE_TRUNCATED) && !(info.image_flags & (PR_I_FILELESS | PR_I_DELETED));
  if (hz->tail[j->snap]) hz->tail[j->snap]->next = j;
  else hz->head[j->snap] = j;
  hz->tail[j->snap] = j;
  hz->queued++;
  pthread_cond_signal(&hz->cv);
  pthread_mutex_unlock(&hz->mu);
}

size_t pr_hasher_cache_add(struct pr_hasher *hz, const struct pr_hash_entry *e, size_t n) {
  int64_t now = utc_now();
  size_t added = 0;
  pthread_mutex_lock(&hz->mu);
  for (size_t i = 0; i < n; i++) {
    struct pr_file_key k = {e[i].dev, e[i].ino, e[i].size, e[i].mtime_ns, e[i].ctime_ns, 1};
    if (e[i].ctime_ns >= now - PR_HASH_RACY_NS) continue; /* the 2 s rule, as for a file read */
    cache_set_locked(hz, &k, e[i].diskseq, e[i].sha);
    added++;
  }
  pthread_mutex_unlock(&hz->mu);
  return added;
}

size_t pr_hasher_cache_export(struct pr_hasher *hz, struct pr_hash_entry **out) {
  size_t n = 0;
  struct pr_hash_entry *e = malloc(PR_HASH_CACHE_SLOTS * sizeof(*e));
  *out = e;
  if (e == NULL) return 0;
  pthread_mutex_lock(&hz->mu);
  for (uint32_t i = 0; i < PR_HASH_CACHE_SLOTS; i++) {
    const struct slot *s = &hz->cache[i];
    if (!s->used) continue;
    e[n].dev = s->dev;
    e[n].ino = s->ino;
    e[n].size = s->size;
    e[n].mtime_ns = s->mtime_ns;
    e[n].ctime_ns = s->ctime_ns;
    e[n].diskseq = s->diskseq;
    memcpy(e[n].sha, s->sha, 32);
    n++;
  }
  pthread_mutex_unlock(&hz->mu);
  return n;
}

void pr_hasher_pause(struct pr_hasher *hz, int paused) {
  pthread_mutex_lock(&hz->mu);
  hz->paused = paused;
  pthread_cond_broadcast(&hz->cv);
  pthread_mutex_unlock(&hz->mu);
}

static void free_jobs(struct job *j) {
  while (j != NULL) {
    struct job *n = j->next;
    free(j);
    j = n;
  }
}

void pr_hasher_clear(struct pr_hasher *hz) {
  struct job *j[2];
  pthread_mutex_lock(&hz->mu);
  j[0] = hz->head[0];
  j[1] = hz->head[1];
  hz->head[0] = hz->tail[0] = hz->head[1] = hz->tail[1] = NULL;
  hz->queued = 0;
  pthread_mutex_unlock(&hz->mu);
  free_jobs(j[0]);
  free_jobs(j[1]);
}

void pr_hasher_stop(struct pr_hasher *hz) {
  if (hz == NULL || !hz->running) return;
  pthread_mutex_lock(&hz->mu);
  hz->stopping = 1;
  __atomic_store_n(&hz->stop_deadline, pr_lib_mono_now() + PR_HASH_STOP_NS, __ATOMIC_RELAXED);
  pthread_cond_broadcast(&hz->cv);
  pthread_mutex_unlock(&hz->mu);
  pthread_join(hz->thread, NULL);
  hz->running = 0;
}

void pr_hasher_destroy(struct pr_hasher *hz) {
  if (hz == NULL) return;
  pr_hasher_clear(hz);
  pr_hasher_stop(hz);
  pthread_cond_destroy(&hz->cv);
  pthread_mutex_destroy(&hz->mu);
  free(hz->cache);
  free(hz->buf);
  free(hz);
}
