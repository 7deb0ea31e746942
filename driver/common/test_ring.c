/*
 * test_ring.c - host unit tests of pr_ring and pr_record (run under ASan and
 * UBSan by `make -C driver/common test`).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pr_record.h"
#include "pr_ring.h"
#include "test_check.h"

/* A test record: header then payload bytes derived from tag. */
static uint32_t make_rec(uint8_t *buf, uint32_t size, uint32_t tag) {
  struct pr_rec_header h;
  uint32_t i;
  memset(&h, 0, sizeof(h));
  h.kind = PR_REC_COMM;
  h.size = size;
  h.pid = tag;
  h.mono_ns = 1000u + tag;
  h.utc_ns = 2000u + tag;
  memcpy(buf, &h, sizeof(h));
  for (i = sizeof(h); i < size; i++) buf[i] = (uint8_t)(tag * 31u + i);
  return size;
}

static int rec_ok(const uint8_t *buf, uint32_t *tag_out) {
  struct pr_rec_header h;
  uint32_t i;
  memcpy(&h, buf, sizeof(h));
  if (h.kind != PR_REC_COMM || h.size < sizeof(h) || (h.size & 7u)) return 0;
  for (i = sizeof(h); i < h.size; i++)
    if (buf[i] != (uint8_t)(h.pid * 31u + i)) return 0;
  *tag_out = h.pid;
  return 1;
}

static uint32_t size_for(uint32_t tag) { return 40u + 8u * (tag % 13u); }

/* Walks a popped batch, checking every record and seq continuity. */
static int walk(const uint8_t *out, uint32_t n, uint64_t *next_seq, uint32_t *next_tag, uint64_t *lost) {
  uint32_t off = 0;
  while (off < n) {
    struct pr_rec_header h;
    memcpy(&h, out + off, sizeof(h));
    if (h.size == 0 || h.size > n - off) return -1;
    if (h.seq != *next_seq) return -2;
    (*next_seq)++;
    if (h.kind == PR_REC_LOST) {
      struct pr_rec_lost l;
      memcpy(&l, out + off, sizeof(l));
      if (l.reason != PR_LOST_RING_FULL || l.cpu != UINT32_MAX || l.count == 0) return -3;
      *lost += l.count;
      *next_tag += (uint32_t)l.count; /* the dropped tags */
    } else {
      uint32_t tag;
      if (!rec_ok(out + off, &tag)) return -4;
      if (tag != *next_tag) return -5;
      (*next_tag)++;
    }
    off += h.size;
  }
  return 0;
}

static int test_wrap_around(void) {
  static uint8_t mem[1000], out[4096], rec[256];
  struct pr_ring r;
  uint32_t tag = 0, next_tag = 0, i;
  uint64_t next_seq = 0, lost = 0;
  CHECK(pr_ring_init(&r, mem, sizeof(mem), PR_LOST_RING_FULL) == 0);
  CHECK(r.cap == 1000);
  for (i = 0; i < 2000; i++) {
    /* Push 1-3 records, pop 1 batch with a small buffer: the head wraps often. */
    uint32_t k, n;
    for (k = 0; k < 1 + i % 3; k++) {
      uint32_t sz = size_for(tag);
      make_rec(rec, sz, tag);
      if (pr_ring_push(&r, rec, sz) == PR_RING_OK) tag++;
      else break; /* do not count drops here: retry the same tag later */
    }
    n = pr_ring_pop_batch(&r, out, 200 + (i % 5) * 40);
    CHECK(walk(out, n, &next_seq, &next_tag, &lost) == 0);
  }
  for (;;) {
    uint32_t n = pr_ring_pop_batch(&r, out, sizeof(out));
    if (n == 0) break;
    CHECK(walk(out, n, &next_seq, &next_tag, &lost) == 0);
  }
  CHECK(next_tag == tag);
  CHECK(lost == 0 && r.dropped == 0);
  CHECK(r.used == 0 && pr_ring_peek_size(&r) == 0);
  CHECK(tag > 2000);
  return 0;
}

static int test_full_ring_counts_drops(void) {
  static uint8_t mem[512], out[1024], rec[128];
  struct pr_ring r;
  struct pr_rec_lost l;
  struct pr_rec_header h;
  uint32_t tag = 0, n, drops = 0, off;
  CHECK(pr_ring_init(&r, mem, sizeof(mem), PR_LOST_RING_FULL) == 0);
  /* Fill: 64-byte records, 512 bytes = 8 of them. */
  for (;;) {
    make_rec(rec, 64, tag);
    if (pr_ring_push(&r, rec, 64) != PR_RING_OK) break;
    tag++;
  }
  CHECK(tag == 8);
  drops = 1;
  for (; drops < 5; drops++) {
    make_rec(rec, 64, 100 + drops);
    CHECK(pr_ring_push(&r, rec, 64) == PR_RING_DROPPED);
  }
  CHECK(r.dropped == 5 && pr_ring_lost_pending(&r) == 5);
  /* Free one slot (64 bytes): not enough for the lost record (56) AND the next
   * record, so the push is dropped too and counted. */
  n = pr_ring_pop_batch(&r, out, 64);
  CHECK(n == 64);
  make_rec(rec, 64, 200);
  CHECK(pr_ring_push(&r, rec, 64) == PR_RING_DROPPED);
  CHECK(pr_ring_lost_pending(&r) == 6);
  /* Free a second slot: the lost record then the record fit. */
  CHECK(pr_ring_pop_batch(&r, out, 64) == 64);
  make_rec(rec, 64, 300);
  CHECK(pr_ring_push(&r, rec, 64) == PR_RING_OK);
  CHECK(pr_ring_lost_pending(&r) == 0);
  n = pr_ring_pop_batch(&r, out, sizeof(out));
  CHECK(n == 6 * 64 + sizeof(l) + 64);
  /* The six remaining originals, then the lost record, then tag 300. */
  off = 6 * 64;
  memcpy(&l, out + off, sizeof(l));
  CHECK(l.h.kind == PR_REC_LOST && l.h.size == sizeof(l));
  CHECK(l.count == 6 && l.reason == PR_LOST_RING_FULL && l.cpu == UINT32_MAX);
  CHECK(l.h.pid == 0 && l.h.tid == 0);
  CHECK(l.h.mono_ns == 1000u + 8u && l.h.utc_ns == 2000u + 8u); /* time of the first drop (tag 8) */
  CHECK(l.h.seq == 8);
  memcpy(&h, out + off + sizeof(l), sizeof(h));
  CHECK(h.pid == 300 && h.seq == 9);
  CHECK(r.dropped == 6 && r.pushed == 10);
  return 0;
}

static int test_records_never_split(void) {
  static uint8_t mem[1024], out[1024], rec[512];
  struct pr_ring r;
  struct pr_rec_header h;
  uint32_t tag;
  CHECK(pr_ring_init(&r, mem, sizeof(mem), PR_LOST_RING_FULL) == 0);
  /* Move head and tail to offset 800. */
  make_rec(rec, 400, 1);
  CHECK(pr_ring_push(&r, rec, 400) == PR_RING_OK);
  make_rec(rec, 400, 2);
  CHECK(pr_ring_push(&r, rec, 400) == PR_RING_OK);
  CHECK(pr_ring_pop_batch(&r, out, 400) == 400);
  /* 224 bytes remain at the end; a 304-byte record must go to offset 0. */
  make_rec(rec, 304, 3);
  CHECK(pr_ring_push(&r, rec, 304) == PR_RING_OK);
  CHECK(r.head == 304);
  CHECK(r.used == 400 + 224 + 304);
  memcpy(&h, mem, sizeof(h));
  CHECK(h.pid == 3 && h.size == 304);
  /* A record larger than the free space is dropped, not split. */
  make_rec(rec, 104, 4);
  CHECK(pr_ring_push(&r, rec, 104) == PR_RING_DROPPED);
  CHECK(pr_ring_pop_batch(&r, out, sizeof(out)) == 400 + 304);
  CHECK(rec_ok(out, &tag) && tag == 2);
  CHECK(rec_ok(out + 400, &tag) && tag == 3);
  CHECK(r.used == 0);
  return 0;
}

static int test_pop_into_too_small_buffer(void) {
  static uint8_t mem[1024], out[1024], rec[256];
  struct pr_ring r;
  uint32_t tag;
  CHECK(pr_ring_init(&r, mem, sizeof(mem), PR_LOST_RING_FULL) == 0);
  make_rec(rec, 64, 1);
  CHECK(pr_ring_push(&r, rec, 64) == PR_RING_OK);
  make_rec(rec, 200, 2);
  CHECK(pr_ring_push(&r, rec, 200) == PR_RING_OK);
  CHECK(pr_ring_pop_batch(&r, out, 63) == 0);
  CHECK(pr_ring_peek_size(&r) == 64);
  CHECK(pr_ring_pop_batch(&r, out, 263) == 64); /* the second does not fit */
  CHECK(rec_ok(out, &tag) && tag == 1);
  CHECK(pr_ring_pop_batch(&r, out, 100) == 0);
  CHECK(pr_ring_peek_size(&r) == 200);
  CHECK(pr_ring_pop_batch(&r, out, 200) == 200);
  CHECK(rec_ok(out, &tag) && tag == 2);
  CHECK(pr_ring_pop_batch(&r, out, sizeof(out)) == 0);
  CHECK(pr_ring_pop_batch(&r, NULL, 0) == 0);
  return 0;
}

static int test_rejects_malformed_records(void) {
  static uint8_t mem[256], rec[512];
  struct pr_ring r;
  CHECK(pr_ring_init(&r, mem, 95, PR_LOST_RING_FULL) == PR_RING_E_INVAL);
  CHECK(pr_ring_init(&r, mem, sizeof(mem), PR_LOST_RING_FULL) == 0);
  make_rec(rec, 64, 1);
  CHECK(pr_ring_push(&r, rec, 56) == PR_RING_E_INVAL);  /* size mismatch */
  CHECK(pr_ring_push(&r, rec, 60) == PR_RING_E_INVAL);  /* not a multiple of 8 */
  CHECK(pr_ring_push(&r, rec, 32) == PR_RING_E_INVAL);  /* below a header */
  make_rec(rec, 256, 1);
  CHECK(pr_ring_push(&r, rec, 256) == PR_RING_E_INVAL); /* can never fit */
  make_rec(rec, pr_ring_max_record(&r), 1);
  CHECK(pr_ring_push(&r, rec, pr_ring_max_record(&r)) == PR_RING_OK);
  { /* size near 2^32 must not wrap the arithmetic */
    struct pr_rec_header h;
    memcpy(&h, rec, sizeof(h));
    h.size = 0xFFFFFFF8u;
    memcpy(rec, &h, sizeof(h));
    CHECK(pr_ring_push(&r, rec, 0xFFFFFFF8u) == PR_RING_E_INVAL);
  }
  CHECK(r.dropped == 0 && r.pushed == 1);
  return 0;
}

static int test_try_push_and_note_drop(void) {
  static uint8_t mem[256], out[512], rec[128];
  struct pr_ring r;
  struct pr_rec_lost l;
  CHECK(pr_ring_init(&r, mem, sizeof(mem), PR_LOST_RING_FULL) == 0);
  make_rec(rec, 128, 1);
  CHECK(pr_ring_try_push(&r, rec, 128) == PR_RING_OK);
  CHECK(pr_ring_try_push(&r, rec, 128) == PR_RING_OK);
  /* Full: try_push neither stores nor counts. */
  CHECK(pr_ring_try_push(&r, rec, 128) == PR_RING_DROPPED);
  CHECK(r.dropped == 0 && pr_ring_lost_pending(&r) == 0);
  /* note_drop counts like a failed push, with the record's times. */
  make_rec(rec, 64, 7);
  pr_ring_note_drop(&r, rec);
  CHECK(r.dropped == 1 && pr_ring_lost_pending(&r) == 1);
  CHECK(pr_ring_pop_batch(&r, out, sizeof(out)) == 256);
  make_rec(rec, 64, 8);
  CHECK(pr_ring_try_push(&r, rec, 64) == PR_RING_OK); /* the lost record goes first */
  CHECK(pr_ring_pop_batch(&r, out, sizeof(out)) == sizeof(l) + 64);
  memcpy(&l, out, sizeof(l));
  CHECK(l.h.kind == PR_REC_LOST && l.count == 1 && l.h.mono_ns == 1000u + 7u);
  return 0;
}

static int test_flush_lost_reports_drops_at_the_end(void) {
  static uint8_t mem[256], out[512], rec[128];
  struct pr_ring r;
  struct pr_rec_lost l;
  CHECK(pr_ring_init(&r, mem, sizeof(mem), PR_LOST_DRIVER_QUEUE) == 0);
  CHECK(pr_ring_flush_lost(&r) == PR_RING_OK && r.used == 0); /* nothing pending */
  make_rec(rec, 128, 1);
  CHECK(pr_ring_push(&r, rec, 128) == PR_RING_OK);
  CHECK(pr_ring_push(&r, rec, 128) == PR_RING_OK);
  CHECK(pr_ring_push(&r, rec, 128) == PR_RING_DROPPED);
  CHECK(pr_ring_push(&r, rec, 128) == PR_RING_DROPPED);
  CHECK(pr_ring_flush_lost(&r) == PR_RING_DROPPED); /* no room yet */
  CHECK(pr_ring_pop_batch(&r, out, 128) == 128);
  /* No more records come: the drops are reported anyway. */
  CHECK(pr_ring_flush_lost(&r) == PR_RING_OK);
  CHECK(pr_ring_lost_pending(&r) == 0);
  CHECK(pr_ring_pop_batch(&r, out, sizeof(out)) == 128 + sizeof(l));
  memcpy(&l, out + 128, sizeof(l));
  CHECK(l.h.kind == PR_REC_LOST && l.count == 2 && l.reason == PR_LOST_DRIVER_QUEUE && l.h.seq == 2);
  return 0;
}

/* Reads the lost records of a popped batch: reason, cpu and count of each,
 * in order; returns how many (at most max). */
static int lost_records(const uint8_t *out, uint32_t n, struct pr_rec_lost *ls, int max) {
  uint32_t off = 0;
  int k = 0;
  while (off < n) {
    struct pr_rec_header h;
    memcpy(&h, out + off, sizeof(h));
    if (h.kind == PR_REC_LOST && k < max) memcpy(&ls[k++], out + off, sizeof(ls[0]));
    off += h.size;
  }
  return k;
}

/* The owner's losses and the ring's own drops, interleaved while the ring is
 * full, come out in the order they happened, each under its own reason. */
static int test_losses_per_reason_keep_their_order(void) {
  static uint8_t mem[512], out[2048], rec[128];
  struct pr_ring r;
  struct pr_rec_lost ls[8];
  uint32_t n;
  int k;
  CHECK(pr_ring_init(&r, mem, sizeof(mem), PR_LOST_RING_FULL) == 0);
  /* Room: a loss goes in at once. */
  CHECK(pr_ring_lost(&r, PR_LOST_SEQ_GAP, 3, 7, 0, 10, 20) == PR_RING_OK);
  make_rec(rec, 64, 1);
  while (pr_ring_push(&r, rec, 64) == PR_RING_OK) {
  }
  /* Full: one drop, then a gap on CPU 1, two more on CPU 1 (added to it), a
   * gap on CPU 2, an overflow, then two drops. */
  CHECK(pr_ring_lost(&r, PR_LOST_SEQ_GAP, 1, 5, 0, 30, 40) == PR_RING_DROPPED);
  CHECK(pr_ring_lost(&r, PR_LOST_SEQ_GAP, 1, 2, 0, 31, 41) == PR_RING_DROPPED);
  CHECK(pr_ring_lost(&r, PR_LOST_SEQ_GAP, 2, 4, 0, 32, 42) == PR_RING_DROPPED);
  CHECK(pr_ring_lost(&r, PR_LOST_ENOBUFS, UINT32_MAX, 0, PR_F_COUNT_UNKNOWN, 33, 43) == PR_RING_DROPPED);
  CHECK(pr_ring_push(&r, rec, 64) == PR_RING_DROPPED);
  CHECK(pr_ring_push(&r, rec, 64) == PR_RING_DROPPED);
  CHECK(r.n_lost == 5 && pr_ring_lost_pending(&r) == 1 + 7 + 4 + 0 + 2);
  CHECK(pr_ring_lost(&r, 0, 0, 1, 0, 0, 0) == PR_RING_E_INVAL);
  CHECK(pr_ring_lost(&r, PR_LOST_REASON_MAX + 1, 0, 1, 0, 0, 0) == PR_RING_E_INVAL);
  n = pr_ring_pop_batch(&r, out, sizeof(out));
  CHECK(lost_records(out, n, ls, 8) == 1);
  CHECK(ls[0].reason == PR_LOST_SEQ_GAP && ls[0].cpu == 3 && ls[0].count == 7 && ls[0].h.mono_ns == 10);
  CHECK(pr_ring_flush_lost(&r) == PR_RING_OK);
  n = pr_ring_pop_batch(&r, out, sizeof(out));
  k = lost_records(out, n, ls, 8);
  CHECK(k == 5);
  CHECK(ls[0].reason == PR_LOST_RING_FULL && ls[0].count == 1 && ls[0].cpu == UINT32_MAX);
  CHECK(ls[1].reason == PR_LOST_SEQ_GAP && ls[1].cpu == 1 && ls[1].count == 7 && ls[1].h.mono_ns == 30);
  CHECK(ls[2].reason == PR_LOST_SEQ_GAP && ls[2].cpu == 2 && ls[2].count == 4);
  CHECK(ls[3].reason == PR_LOST_ENOBUFS && ls[3].count == 0 && (ls[3].h.flags & PR_F_COUNT_UNKNOWN));
  CHECK(ls[4].reason == PR_LOST_RING_FULL && ls[4].count == 2);
  CHECK(r.lost_by_reason[PR_LOST_SEQ_GAP] == 18 && r.lost_by_reason[PR_LOST_RING_FULL] == 3);
  CHECK(r.dropped == 3);
  return 0;
}

/* More distinct pending losses than slots: the latest entry with an earlier
 * one of the same reason folds into it; every count stays under its reason. */
static int test_pending_losses_fold_within_their_reason(void) {
  static uint8_t mem[2048], out[4096], rec[128];
  struct pr_ring r;
  struct pr_rec_lost ls[32];
  uint64_t by_reason[PR_LOST_REASON_MAX + 1] = {0};
  uint32_t i, n;
  int k, j;
  CHECK(pr_ring_init(&r, mem, sizeof(mem), PR_LOST_RING_FULL) == 0);
  make_rec(rec, 64, 1);
  while (pr_ring_push(&r, rec, 64) == PR_RING_OK) {
  }
  for (i = 0; i < 100; i++) {
    CHECK(pr_ring_lost(&r, PR_LOST_SEQ_GAP, i % 9, 1 + i, 0, 100 + i, 200 + i) == PR_RING_DROPPED);
    if (i % 10 == 0) CHECK(pr_ring_lost(&r, PR_LOST_DECODE, UINT32_MAX, 1, 0, 0, 0) == PR_RING_DROPPED);
    CHECK(r.n_lost <= PR_RING_LOST_SLOTS);
  }
  CHECK(pr_ring_pop_batch(&r, out, sizeof(out)) > 0);
  CHECK(pr_ring_flush_lost(&r) == PR_RING_OK);
  n = pr_ring_pop_batch(&r, out, sizeof(out));
  k = lost_records(out, n, ls, 32);
  CHECK(k == (int)PR_RING_LOST_SLOTS);
  for (j = 0; j < k; j++) by_reason[ls[j].reason] += ls[j].count;
  CHECK(by_reason[PR_LOST_SEQ_GAP] == 100 * 101 / 2);
  CHECK(by_reason[PR_LOST_DECODE] == 10);
  CHECK(by_reason[PR_LOST_RING_FULL] == 1); /* the push that found it full */
  CHECK(ls[0].reason == PR_LOST_RING_FULL && ls[1].h.mono_ns == 100); /* the first gap keeps its time */
  return 0;
}

/* ---- a producer and a consumer racing, serialised by a mutex ---- */
#define RACE_N 200000u
static struct pr_ring race_ring;
static pthread_mutex_t race_mu = PTHREAD_MUTEX_INITIALIZER;
static volatile int race_done;
static uint64_t race_pushed_ok, race_dropped, race_attempts;

static void *producer(void *arg) {
  uint8_t rec[256];
  uint32_t tag;
  (void)arg;
  for (tag = 0; tag < RACE_N; tag++) {
    int rc;
    uint32_t sz = size_for(tag);
    make_rec(rec, sz, tag);
    pthread_mutex_lock(&race_mu);
    rc = pr_ring_push(&race_ring, rec, sz);
    pthread_mutex_unlock(&race_mu);
    if (rc == PR_RING_OK) race_pushed_ok++;
    else if (rc == PR_RING_DROPPED) race_dropped++;
  }
  /* Final records (new tags) until one is stored, so drops are reported. */
  for (;; tag++) {
    int rc;
    make_rec(rec, 40, tag);
    pthread_mutex_lock(&race_mu);
    rc = pr_ring_push(&race_ring, rec, 40);
    pthread_mutex_unlock(&race_mu);
    if (rc == PR_RING_OK) break;
    race_dropped++;
  }
  race_attempts = (uint64_t)tag + 1;
  race_pushed_ok++;
  __atomic_store_n(&race_done, 1, __ATOMIC_SEQ_CST);
  return NULL;
}

static int test_producer_consumer_race(void) {
  static uint8_t mem[4096], out[700];
  pthread_t t;
  uint64_t next_seq = 0, lost = 0, received = 0;
  uint32_t next_tag = 0;
  CHECK(pr_ring_init(&race_ring, mem, sizeof(mem), PR_LOST_RING_FULL) == 0);
  CHECK(pthread_create(&t, NULL, producer, NULL) == 0);
  for (;;) {
    uint32_t n, off;
    int done = __atomic_load_n(&race_done, __ATOMIC_SEQ_CST);
    pthread_mutex_lock(&race_mu);
    n = pr_ring_pop_batch(&race_ring, out, sizeof(out));
    pthread_mutex_unlock(&race_mu);
    if (n == 0 && done) break;
    for (off = 0; off < n;) {
      struct pr_rec_header h;
      memcpy(&h, out + off, sizeof(h));
      if (h.kind != PR_REC_LOST) received++;
      off += h.size;
    }
    if (walk(out, n, &next_seq, &next_tag, &lost) != 0) {
      pthread_join(t, NULL);
      CHECK(!"batch failed the walk");
    }
  }
  pthread_join(t, NULL);
  printf("     race: %llu pushed, %llu received, %llu lost (in lost records)\n",
         (unsigned long long)race_attempts, (unsigned long long)received, (unsigned long long)lost);
  CHECK(received + lost == race_attempts);
  CHECK(lost == race_dropped);
  CHECK(received == race_pushed_ok);
  CHECK(next_tag == race_attempts);
  CHECK(next_seq == race_ring.pushed);
  return 0;
}

/* ---- record builder ---- */
static int test_builder_strings(void) {
  static uint64_t mem[64];
  struct pr_builder b;
  struct pr_rec_exec e;
  const char img[] = "/usr/bin/true-not-terminated";
  uint32_t size;
  CHECK(pr_rb_init(&b, mem, sizeof(mem), PR_REC_EXEC, sizeof(struct pr_rec_exec)) == 0);
  pr_rb_header(&b)->pid = 42;
  /* By length: only the first 13 bytes, no NUL needed. */
  CHECK(pr_rb_add_str(&b, offsetof(struct pr_rec_exec, info.image), img, 13, 100) == 0);
  CHECK(pr_rb_add_str(&b, offsetof(struct pr_rec_exec, info.argv), "a\0bb\0ccc", 8, 5) == 1);
  CHECK(pr_rb_add_str(&b, offsetof(struct pr_rec_exec, info.comm), "", 0, 16) == 0);
  size = pr_rb_finish(&b);
  CHECK(size == sizeof(e) + 24); /* 13 + 5 bytes, padded */
  memcpy(&e, mem, sizeof(e));
  CHECK(e.h.kind == PR_REC_EXEC && e.h.size == size && e.h.pid == 42);
  CHECK(e.info.image.off == sizeof(e) && e.info.image.len == 13);
  CHECK(memcmp((uint8_t *)mem + e.info.image.off, "/usr/bin/true", 13) == 0);
  CHECK(e.info.argv.off == sizeof(e) + 13 && e.info.argv.len == 5);
  CHECK(memcmp((uint8_t *)mem + e.info.argv.off, "a\0bb\0", 5) == 0);
  CHECK(e.info.comm.off == 0 && e.info.comm.len == 0);
  CHECK(((uint8_t *)mem)[size - 1] == 0 && ((uint8_t *)mem)[size - 2] == 0);
  CHECK(pr_argv_count((const uint8_t *)"a\0bb\0ccc", 8) == 3);
  CHECK(pr_argv_count((const uint8_t *)"a\0bb\0", 5) == 2);
  CHECK(pr_argv_count((const uint8_t *)"", 0) == 0);
  /* Overflow of the builder's memory is reported, never written past. */
  CHECK(pr_rb_init(&b, mem, sizeof(struct pr_rec_exec) + 8, PR_REC_EXEC, sizeof(struct pr_rec_exec)) == 0);
  CHECK(pr_rb_add_str(&b, offsetof(struct pr_rec_exec, info.cwd), img, sizeof(img) - 1, 0) == -1);
  CHECK(pr_rb_finish(&b) == 0);
  CHECK(pr_rb_init(&b, mem, 16, PR_REC_EXEC, sizeof(struct pr_rec_exec)) == -1);
  return 0;
}

static int test_utf8_cut(void) {
  const uint8_t s[] = "ab\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z"; /* a b é € 😀 z */
  CHECK(pr_utf8_cut(s, 12, 100) == 12);
  CHECK(pr_utf8_cut(s, 12, 2) == 2);
  CHECK(pr_utf8_cut(s, 12, 3) == 2);  /* inside é */
  CHECK(pr_utf8_cut(s, 12, 4) == 4);
  CHECK(pr_utf8_cut(s, 12, 5) == 4);  /* inside € */
  CHECK(pr_utf8_cut(s, 12, 6) == 4);
  CHECK(pr_utf8_cut(s, 12, 7) == 7);
  CHECK(pr_utf8_cut(s, 12, 9) == 7);  /* inside 😀 */
  CHECK(pr_utf8_cut(s, 12, 10) == 7);
  CHECK(pr_utf8_cut(s, 12, 11) == 11);
  CHECK(pr_utf8_cut((const uint8_t *)"\x80\x80\x80\x80\x80", 5, 4) == 4); /* not UTF-8 */
  return 0;
}

int main(void) {
  t_run("pr_ring wraps around and keeps every record whole and in order", test_wrap_around);
  t_run("pr_ring drops new records when full and reports the exact count at the next push",
        test_full_ring_counts_drops);
  t_run("pr_ring pads the end instead of splitting a record", test_records_never_split);
  t_run("pr_ring_pop_batch copies nothing into a buffer smaller than the next record",
        test_pop_into_too_small_buffer);
  t_run("pr_ring_push rejects malformed and oversized records", test_rejects_malformed_records);
  t_run("pr_ring_try_push leaves a record that does not fit uncounted; pr_ring_note_drop counts one",
        test_try_push_and_note_drop);
  t_run("pr_ring_flush_lost reports drops that no later record follows", test_flush_lost_reports_drops_at_the_end);
  t_run("pr_ring keeps losses per reason and emits them in the order they happened",
        test_losses_per_reason_keep_their_order);
  t_run("pr_ring folds pending losses beyond its slots within their own reason",
        test_pending_losses_fold_within_their_reason);
  t_run("pr_ring accounts for every sequence number with a racing producer and consumer",
        test_producer_consumer_race);
  t_run("pr_rb_add_str appends strings by length and truncates to the limit", test_builder_strings);
  t_run("pr_utf8_cut never cuts inside a UTF-8 character", test_utf8_cut);
  printf("%d passed, %d failed\n", t_passed, t_failed);
  return t_failed == 0 ? 0 : 1;
}
