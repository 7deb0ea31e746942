/**
 * An async iterator over items that come in batches: one awaited promise
 * per item, and none of an async generator's per-item machinery, for readers
 * whose items (chunks) are made synchronously many at a time.
 *
 * @module
 */

/**
 * Hands out the items of the batches `fill` returns, in order, until it
 * returns `undefined`; calls `close` once, at the end, on an error of
 * `fill`, or when the consumer stops early (`return`, as `break` in a
 * `for await` does). An empty batch is asked again.
 *
 * @example
 * ```ts
 * import { batchedIterator } from "./_batched_iterator.ts";
 * const batches = [[1, 2], [], [3]];
 * let closed = 0;
 * const it = batchedIterator(
 *   () => Promise.resolve(batches.shift()),
 *   () => { closed++; return Promise.resolve(); },
 * );
 * const got = await Array.fromAsync(it);
 * if (got.join() !== "1,2,3" || closed !== 1) throw new Error(`${got} ${closed}`);
 * ```
 */
export function batchedIterator<T>(
  fill: () => Promise<T[] | undefined>,
  close: () => Promise<void>,
): AsyncIterableIterator<T> {
  let batch: (T | undefined)[] = [];
  let i = 0;
  let finished = false;
  const end = async (): Promise<void> => {
    if (finished) return;
    finished = true;
    batch = [];
    i = 0;
    await close();
  };
  const refill = async (): Promise<IteratorResult<T>> => {
    try {
      for (;;) {
        const b = await fill();
        if (b === undefined) {
          await end();
          return { done: true, value: undefined };
        }
        if (b.length > 0) {
          batch = b;
          i = 1;
          const value = b[0];
          b[0] = undefined as T;
          return { done: false, value };
        }
      }
    } catch (e) {
      await end().catch(() => {});
      throw e;
    }
  };
  const it: AsyncIterableIterator<T> = {
    next(): Promise<IteratorResult<T>> {
      if (i < batch.length) {
        const value = batch[i] as T;
        // the consumer owns it now: the batch does not keep it alive
        batch[i++] = undefined;
        return Promise.resolve({ done: false, value });
      }
      if (finished) return Promise.resolve({ done: true, value: undefined });
      return refill();
    },
    async return(): Promise<IteratorResult<T>> {
      await end();
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return it;
    },
  };
  return it;
}
