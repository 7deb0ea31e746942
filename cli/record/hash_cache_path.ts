/**
 * Which image hash cache file a recorder uses (`record --hash-cache FILE`,
 * `--no-hash-cache`). Pure.
 *
 * @module
 */

/**
 * The default image hash cache of a recorder running as root: kept between
 * runs in the same boot (the library ignores one from another boot), in a
 * directory only root may write (`procrec service`'s unit makes it as its
 * `CacheDirectory=`, mode 0700).
 */
export const DEFAULT_HASH_CACHE = "/var/cache/procrec/image-hashes";

/**
 * The cache file to load at start and save at a clean stop, or undefined
 * for none: none without image hashing or with `--no-hash-cache` (`flag`
 * false); the file given (`flag` a path); else the default when running as
 * root (`euid` 0), none otherwise (another user's recorder has no trusted
 * place of its own: it may name one).
 *
 * @example
 * ```ts
 * import { DEFAULT_HASH_CACHE, hashCachePath } from "./hash_cache_path.ts";
 * if (hashCachePath(undefined, 0, true) !== DEFAULT_HASH_CACHE) throw new Error();
 * if (hashCachePath(undefined, 1000, true) !== undefined) throw new Error();
 * if (hashCachePath("/tmp/x/h", 0, true) !== "/tmp/x/h") throw new Error();
 * if (hashCachePath(false, 0, true) !== undefined) throw new Error();
 * if (hashCachePath("/tmp/x/h", 0, false) !== undefined) throw new Error();
 * ```
 */
export function hashCachePath(
  flag: string | boolean | undefined,
  euid: number,
  imageHash: boolean,
): string | undefined {
  if (!imageHash || flag === false) return undefined;
  if (typeof flag === "string") return flag;
  return euid === 0 ? DEFAULT_HASH_CACHE : undefined;
}
