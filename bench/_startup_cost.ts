/**
 * The recorder's fixed cost: the CPU of a whole `procrec record --source
 * SOURCE -q -o X -- /bin/true` (Deno's start, loading the CLI, opening the
 * source, the snapshot of /proc, the image hashes of the running processes
 * unless `--no-image-hash`, the drain and the close), from the shell's
 * `times` as bench/ebpf_sources.ts measures a recorder's total, and which
 * images it read to hash them (from the recording). Used by
 * `deno task bench:compare`.
 *
 * @module
 */

import { RecordingReader } from "../cli/log/mod.ts";
import { type HashCache, hashCacheFlags } from "./ebpf_sources.ts";

const PROCREC = new URL("../procrec", import.meta.url).pathname;

/** The fixed cost of one recorder run. */
export interface StartupCost {
  source: string;
  /** user + system seconds of the whole run (the launcher included). */
  cpu: number;
  /** With image hashing (false: --no-image-hash). */
  hash: boolean;
  /** With hashing: the hash cache it started with (bench/ebpf_sources.ts). */
  cache?: HashCache;
  /**
   * The files the run read to hash (not from its cache): the images of the
   * processes running at its start, the recorder's own among them; the
   * largest first.
   */
  hashed: { image: string; bytes: number }[];
}

/** The images a recording read to hash them (ok, not cached), largest first. */
async function hashedImages(
  path: string,
): Promise<{ image: string; bytes: number }[]> {
  const reader = await RecordingReader.open(path);
  const image = new Map<number, string>();
  const read: { image: string; bytes: number }[] = [];
  for await (const e of reader.events()) {
    if (e.kind === "process_snapshot" || e.kind === "exec") {
      image.set(e.pid, e.info?.image ?? `pid ${e.pid}`);
    } else if (e.kind === "image_hash" && e.status === "ok" && !e.cached) {
      read.push({
        image: image.get(e.pid) ?? `pid ${e.pid}`,
        bytes: e.size ?? 0,
      });
    }
  }
  return read.sort((a, b) => b.bytes - a.bytes);
}

/** Seconds of a `times` figure such as "0m0.512s". */
function seconds(t: string): number {
  const m = /^(\d+)m([\d.]+)s$/.exec(t);
  if (!m) throw new Error(`cannot read the shell's times: "${t}"`);
  return Number(m[1]) * 60 + Number(m[2]);
}

/** Runs `procrec record -- /bin/true` once with SOURCE; its whole CPU. */
export async function startupCost(
  source: string,
  dir: string,
  hash: boolean,
  cache: HashCache = "cold",
): Promise<StartupCost> {
  const tag = `startup-${source}-${hash ? `hash-${cache}` : "nohash"}`;
  const out = `${dir}/${tag}.cbor`;
  const cacheFlags = hash
    ? await hashCacheFlags(source, `${dir}/${tag}-cache`, cache)
    : [];
  const r = await new Deno.Command("bash", {
    args: [
      "-c",
      '"$@"; s=$?; times; exit $s',
      "bench",
      PROCREC,
      "record",
      "--source",
      source,
      "-q",
      "-f",
      "-o",
      out,
      ...(hash ? cacheFlags : ["--no-image-hash"]),
      "--",
      "/bin/true",
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!r.success) {
    throw new Error(
      `procrec record -- /bin/true failed: ${
        new TextDecoder().decode(r.stderr).trim()
      }`,
    );
  }
  const hashed = hash ? await hashedImages(out) : [];
  await Deno.remove(out);
  // `times`: the shell's user/sys, then its children's
  const lines = new TextDecoder().decode(r.stdout).trim().split("\n");
  const [cu, cs] = lines[lines.length - 1].split(" ");
  return {
    source,
    cpu: seconds(cu) + seconds(cs),
    hash,
    ...(hash ? { cache } : {}),
    hashed,
  };
}
