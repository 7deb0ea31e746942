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

static void emit(struct pr_hasher *hz, const struct job *j, uint32_t status, uint32_t flags, uint32_t err,
                 const struct stat *st, const uint8_t *sha) {
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
  if (st != NULL) {
    r.dev = (uint64_t)st->st_dev;
    r.ino = (uint64_t)st->st_ino;
    r.size = (uint64_t)st->st_size;
    r.mtime_ns = ts_ns(st->st_mtim);
    r.ctime_ns = ts_ns(st->st_ctim);
  }
  if (sha != NULL) memcpy(r.sha256, sha, 32);
  pr_lib_emit(hz->lib, &r, sizeof(r));
}

static int same_state(const struct stat *a, const struct stat *b) {
  return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
         ts_ns(a->st_mtim) == ts_ns(b->st_mtim) && ts_ns(a->st_ctim) == ts_ns(b->st_ctim);
}

static struct slot *slot_of(struct pr_hasher *hz, const struct stat *st) {
  uint64_t k = (uint64_t)st->st_dev * 0x9e3779b97f4a7c15ull ^ (uint64_t)st->st_ino * 0xc2b2ae3d27d4eb4full ^
               (uint64_t)ts_ns(st->st_ctim);
  k ^= k >> 29;
  return &hz->cache[k % PR_HASH_CACHE_SLOTS];
}

static int cache_get(struct pr_hasher *hz, const struct stat *st, uint8_t sha[32]) {
  struct slot *s = slot_of(hz, st);
  if (!s->used || s->dev != (uint64_t)st->st_dev || s->ino != (uint64_t)st->st_ino ||
      s->size != (uint64_t)st->st_size || s->mtime_ns != ts_ns(st->st_mtim) || s->ctime_ns != ts_ns(st->st_ctim))
    return 0;
  memcpy(sha, s->sha, 32);
  return 1;
}

static void cache_put(struct pr_hasher *hz, const struct stat *st, const uint8_t sha[32]) {
  struct slot *s = slot_of(hz, st);
  s->dev = (uint64_t)st->st_dev;
  s->ino = (uint64_t)st->st_ino;
  s->size = (uint64_t)st->st_size;
  s->mtime_ns = ts_ns(st->st_mtim);
  s->ctime_ns = ts_ns(st->st_ctim);
  memcpy(s->sha, sha, 32);
  s->used = 1;
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

/* Opens the exec'd file of j (see hasher.h) into w. Returns 1 when w is to be
 * hashed, 0 when the job is done (its record emitted). */
static int open_job(struct pr_hasher *hz, struct job *j, struct work *w) {
  char exe[64];
  uint8_t sha[32];
  int fd, err;

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
  /* The process's own image, while it still runs it. */
  snprintf(exe, sizeof(exe), "/proc/%u/exe", j->pid);
  w->via = PR_H_VIA_EXE;
  fd = open(exe, O_RDONLY | O_CLOEXEC);
  if (fd >= 0 && (fstat(fd, &w->st) != 0 || (uint64_t)w->st.st_dev != j->dev || (uint64_t)w->st.st_ino != j->ino)) {
    close(fd); /* another process with this pid, or it exec'd again */
    fd = -1;
  }
  if (fd < 0) {
    w->via = PR_H_VIA_PATH;
    if (!j->path_usable) {
      emit(hz, j, PR_HASH_GONE, w->via, WHY_NO_PATH, NULL, NULL);
      return 0;
    }
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
    if ((uint64_t)w->st.st_dev != j->dev || (uint64_t)w->st.st_ino != j->ino) {
      close(fd);
      emit(hz, j, PR_HASH_CHANGED, w->via, WHY_OTHER_FILE, &w->st, NULL);
      return 0;
    }
    /* No process holds it any more: it could have been written after the
     * exec. ctime moves on every write (a coarse clock: allow a granule). */
    if (ts_ns(w->st.st_ctim) >= (int64_t)j->exec_utc - PR_HASH_GRANULE_NS) {
      close(fd);
      emit(hz, j, PR_HASH_CHANGED, w->via, WHY_CTIME, &w->st, NULL);
      return 0;
    }
  }
  if (cache_get(hz, &w->st, sha)) {
    close(fd);
    pr_lib_count(hz->lib, PR_CNT_HASH_CACHED, 1);
    emit(hz, j, PR_HASH_OK, w->via | PR_H_CACHED, 0, &w->st, sha);
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
    n = read(w->fd, hz->buf, READ_BUF);
    if (n < 0) {
      if (errno == EINTR) continue;
      err = errno;
      break;
    }
    if (n == 0) break;
    pr_sha256_update(&w->c, hz->buf, (size_t)n);
    w->bytes += (uint64_t)n;
    pr_lib_count(hz->lib, PR_CNT_HASH_BYTES, (uint64_t)n);
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

void pr_hasher_note(struct pr_hasher *hz, const void *rec, uint32_t size) {
  struct pr_rec_header h;
  struct pr_proc_info info;
  uint64_t start_ns;
  const uint8_t *p = rec;
  struct job *j;
  uint32_t path_len = 0;

  if (hz == NULL || size < sizeof(h)) return;
  memcpy(&h, p, sizeof(h));
  if (h.kind == PR_REC_EXEC && size >= sizeof(struct pr_rec_exec)) {
    memcpy(&start_ns, p + offsetof(struct pr_rec_exec, start_ns), 8);
    memcpy(&info, p + offsetof(struct pr_rec_exec, info), sizeof(info));
  } else if (h.kind == PR_REC_SNAPSHOT && size >= sizeof(struct pr_rec_snapshot)) {
    memcpy(&start_ns, p + offsetof(struct pr_rec_snapshot, start_ns), 8);
    memcpy(&info, p + offsetof(struct pr_rec_snapshot, info), sizeof(info));
  } else {
    return;
  }
  if (info.image.len > 0 && (uint64_t)info.image.off + info.image.len <= size) path_len = info.image.len;
  j = malloc(sizeof(*j) + path_len + 1);
  pthread_mutex_lock(&hz->mu);
  if (j == NULL || hz->queued >= PR_HASH_QUEUE_MAX) {
    pthread_mutex_unlock(&hz->mu);
    if (j != NULL) {
      j->pid = h.pid;
      j->tid = h.tid;
      j->start_ns = start_ns;
      j->exec_ns = h.mono_ns;
      pr_lib_count(hz->lib, PR_CNT_HASH_SKIPPED, 1);
      emit(hz, j, PR_HASH_SKIPPED, 0, 0, NULL, NULL);
      free(j);
    } else {
      struct job none;
      memset(&none, 0, sizeof(none));
      none.pid = h.pid;
      none.tid = h.tid;
      none.start_ns = start_ns;
      none.exec_ns = h.mono_ns;
      pr_lib_count(hz->lib, PR_CNT_HASH_SKIPPED, 1);
      emit(hz, &none, PR_HASH_SKIPPED, 0, ENOMEM, NULL, NULL);
    }
    return;
  }
  j->next = NULL;
  j->snap = h.kind == PR_REC_SNAPSHOT;
  j->pid = h.pid;
  j->tid = h.tid;
  j->start_ns = start_ns;
  j->exec_ns = h.mono_ns;
  j->exec_utc = h.utc_ns;
  j->dev = info.dev;
  j->ino = info.ino;
  j->have_identity = info.prov_file == PR_PROV_KERNEL || info.prov_file == PR_PROV_PROC;
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
