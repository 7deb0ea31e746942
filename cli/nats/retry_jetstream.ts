/**
 * Retries a JetStream API call while the cluster cannot answer yet (a leader
 * election after a node was lost, a cluster starting): timeouts, "no
 * responders" and "unavailable" are retried until a deadline; any other error
 * is thrown at once.
 *
 * @module
 */

/** Whether an error is one a cluster gets over by itself. */
export function isTransient(e: unknown): boolean {
  return /timeout|no responders|unavailable|503|leader|not current|disconnect|reconnect|heartbeat|offline/i
    .test(String((e as Error)?.message ?? e) + String((e as Error)?.name));
}

/**
 * Calls `fn` until it succeeds, an error is not transient, or `timeoutMs`
 * passed; the final error names `what`.
 *
 * @example
 * ```ts
 * import { retryJetStream } from "./retry_jetstream.ts";
 * let n = 0;
 * const v = await retryJetStream("a call", () => {
 *   if (++n < 3) throw new Error("timeout");
 *   return Promise.resolve(n);
 * }, 5000, 1);
 * if (v !== 3) throw new Error();
 * ```
 */
export async function retryJetStream<T>(
  what: string,
  fn: () => Promise<T>,
  timeoutMs = 30_000,
  pauseMs = 250,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (!isTransient(e) || Date.now() > end) {
        throw new Error(`Cannot ${what}: ${(e as Error).message}`, {
          cause: e,
        });
      }
      await new Promise((r) => setTimeout(r, pauseMs));
    }
  }
}
