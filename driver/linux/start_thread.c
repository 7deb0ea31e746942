/*
 * start_thread.c - pr_start_thread (source.h): the one way both Linux
 * sources start their threads.
 */
#include <pthread.h>
#include <signal.h>

#include "source.h"

/* Threads started from the library block every signal: the host process's
 * handlers (Deno's) run on its own threads, not on ours in the middle of a
 * recv or a /proc read. */
int pr_start_thread(pthread_t *t, void *(*fn)(void *), void *arg) {
  sigset_t all, old;
  int rc;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  rc = pthread_create(t, NULL, fn, arg);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  return rc;
}
