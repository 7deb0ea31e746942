/**
 * Runs compiled Sigma rules over one recording's events as they stream by:
 * each process creation (a Windows creation, a Linux exec, a process found
 * running) is matched with its parent and grandparent as they were then.
 * Pure: events in, hits and a per-rule account out.
 *
 * @module
 */
import type { ProcessInfo, ProcEvent } from "../events/types.ts";
import type { RecordingHeader } from "../log/schema.ts";
import { processId } from "../analysis/process_id.ts";
import { CHAIN_GOES_ON, MAX_PARENTS } from "../analysis/parent_chain.ts";
import { isoFromNs } from "../text/iso_from_ns.ts";
import type { CompiledRule, HuntOs } from "./compile_rule.ts";
import { EventFields, FIELD_INDEX, FieldValues } from "./event_fields.ts";
import type { HuntSubject, ProcessView } from "./hunt_subject.ts";
import { RuleIndex } from "./rule_index.ts";
import { PidMap } from "./_pid_map.ts";

/** One rule matching one process. */
export interface HuntHit {
  rule: { id?: string; title: string; level?: string; file: string };
  host: string;
  /** Where the recording was read from. */
  recording: string;
  pid: number;
  /** Stable process id (the tree's). */
  process: string;
  /** UTC time of the event, ISO 8601 with ns. */
  time: string;
  utcNs: string;
  /** ns since the recording's time base (the tree's clock). */
  t: number;
  event: "exec" | "process_create" | "process_snapshot";
  image?: string;
  cmdline?: string;
  user?: string;
  /** Ancestors, nearest first: `image[pid]`, `[pid]` when unknown. */
  parents: string[];
}

/** A rule that cannot answer for this recording, and why. */
export interface NotApplicable {
  rule: CompiledRule;
  reason: string;
}

/** What a hunt over one recording found. */
export interface RecordingHunt {
  recording: string;
  host: string;
  os: HuntOs;
  /** Process creations matched against the rules. */
  subjects: number;
  /** Rules run over the recording. */
  applied: number;
  /** Events the recording says were lost (`lost` records); processes in those spans were not seen. */
  lost: number;
  /** Some `lost` record did not know its count. */
  lostUnknown: boolean;
  hits: HuntHit[];
  /** Rules that cannot answer for it: another OS, a field procrec lacks there, or a field no process of the recording has. */
  notApplicable: NotApplicable[];
  /**
   * Rules run that name fields procrec does not record on this OS, in a
   * part they do not need (a filter, one alternative of several): that
   * part never matches, so a filter on it never applies.
   */
  partial?: { rule: CompiledRule; fields: string[] }[];
}

/** What the hits on one process creation share. */
type HitContext = Omit<HuntHit, "rule">;

/**
 * A process whose rules on `Hashes` wait for its image's hash: the
 * recorder's hash worker writes it later in the stream (`image_hash`).
 */
interface AwaitingHash {
  /** `pid:t`, as its `image_hash` names it. */
  key: string;
  /** The process, parent and grandparent as they were at the event. */
  subject: Pick<HuntSubject, "process" | "parent" | "grandparent">;
  t: number;
  event: HuntHit["event"];
  /** Matched already (its hash came, or its wait ended). */
  done: boolean;
}

/** What a matched {@link AwaitingHash} keeps of its process: nothing. */
const RELEASED: AwaitingHash["subject"] = {
  process: { pid: 0, ppid: 0, start: 0, info: { from: {} } },
};

/** Processes awaiting their hash at most; then the oldest is matched without. */
const MAX_AWAITING_HASH = 65536;
/** Event time a process awaits its hash at most (ns). */
const MAX_HASH_WAIT_NS = 10_000_000_000;

/**
 * Hunts one recording.
 *
 * @example
 * ```ts
 * import { RuleHunter } from "./rule_hunter.ts";
 * import { compileRule } from "./compile_rule.ts";
 * import { parseRule } from "./parse_rule.ts";
 * import type { RecordingHeader } from "../log/schema.ts";
 * const rule = compileRule(parseRule(`
 * title: curl from a shell
 * level: low
 * logsource: { category: process_creation, product: linux }
 * detection:
 *   sel: { Image|endswith: /curl, ParentImage|endswith: /sh }
 *   condition: sel
 * `, "r.yml"));
 * const header = { host: "h", os: "linux", bootId: "b", timeBase: { monoNs: 0n, utcNs: 0n } } as RecordingHeader;
 * const h = new RuleHunter("r.cbor", header, [rule]);
 * h.add({ kind: "exec", t: 1, pid: 5, tid: 5, info: { image: "/bin/sh", argv: ["sh"], from: {} } });
 * h.add({ kind: "process_create", t: 2, pid: 6, tid: 6, ppid: 5, ptid: 5, creatorPid: 5, creatorTid: 5, start: 2 });
 * h.add({ kind: "exec", t: 3, pid: 6, tid: 6, info: { image: "/usr/bin/curl", argv: ["curl", "x"], from: {} } });
 * const r = h.finish();
 * if (r.hits.length !== 1 || r.hits[0].parents[0] !== "/bin/sh[5]") throw new Error(JSON.stringify(r));
 * ```
 */
export class RuleHunter {
  readonly #os: HuntOs;
  readonly #base: bigint;
  readonly #procs = new PidMap<ProcessView>();
  readonly #users = new Map<number, string>();
  readonly #index: Pick<RuleIndex, "candidates">;
  readonly #applied: CompiledRule[];
  readonly #notApplicable: NotApplicable[] = [];
  readonly #hits: HuntHit[] = [];
  readonly #hitRules = new Set<CompiledRule>();
  /** Numbers of the field values seen, shared by the subjects. */
  readonly #values: FieldValues;
  /** The subject being matched (one object, changed for each). */
  readonly #subject: HuntSubject;
  /** The fields of the subject being matched (one object, reset for each). */
  #fields?: EventFields;
  /** Required fields not yet seen with a value, by field index. */
  readonly #unseen = new Map<number, string>();
  /** The keys of {@link #unseen}, as a list (no iterator per process). */
  #unseenList: number[] = [];
  #subjects = 0;
  #lost = 0;
  #lostUnknown = false;
  /** The applied rules that read `Hashes`: matched once the hash is known. */
  readonly #hashRules = new Set<CompiledRule>();
  /** Processes awaiting their image's hash, by `pid:t`. */
  readonly #awaiting = new Map<string, AwaitingHash>();
  /**
   * The same, oldest first (from `#awaitHead`), with those matched since
   * (a Map read from its start would step over every entry deleted).
   */
  #awaitQueue: AwaitingHash[] = [];
  #awaitHead = 0;
  /**
   * The recording may hold image hashes written after their execs (format
   * 5 on, recorded without `--no-image-hash`).
   */
  readonly #hashesLater: boolean;

  constructor(
    readonly recording: string,
    readonly header: RecordingHeader,
    rules: CompiledRule[],
    options: {
      /** false: every rule is tested on every process (what the index must agree with). */
      useIndex?: boolean;
      /** Distinct values per field whose verdicts are remembered (0: none, every value tested afresh). */
      valuesPerField?: number;
    } = {},
  ) {
    this.#values = new FieldValues(options.valuesPerField);
    this.#hashesLater = (header.version ?? 0) >= 5 &&
      (header.options as { noHash?: boolean } | undefined)?.noHash !== true;
    this.#os = header.os === "windows" ? "windows" : "linux";
    this.#base = BigInt(header.timeBase.utcNs);
    this.#subject = {
      os: this.#os,
      host: header.host,
      process: { pid: 0, ppid: 0, start: 0, info: { from: {} } },
      parent: undefined,
      grandparent: undefined,
      users: this.#users,
    };
    this.#applied = [];
    for (const r of rules) {
      const why = r.notApplicable[this.#os];
      if (why) this.#notApplicable.push({ rule: r, reason: why });
      else {
        this.#applied.push(r);
        for (const f of r.required) {
          const i = FIELD_INDEX.get(f);
          if (i !== undefined) this.#unseen.set(i, f);
        }
      }
    }
    this.#unseenList = [...this.#unseen.keys()];
    for (const r of this.#applied) {
      if (r.fields.includes("Hashes")) this.#hashRules.add(r);
    }
    // without the index every rule is tested on every event (what the
    // index must agree with)
    this.#index = options.useIndex === false
      ? { candidates: () => this.#applied }
      : indexFor(rules, this.#os, this.#applied);
  }

  /** Feeds the next event of the recording. */
  add(ev: ProcEvent): void {
    // (a hash that has not come within its wait: matched without it)
    if (this.#awaitHead < this.#awaitQueue.length) this.#expire(ev.t);
    switch (ev.kind) {
      case "process_snapshot": {
        const v: ProcessView = {
          pid: ev.pid,
          ppid: ev.ppid,
          start: ev.start,
          info: ev.info,
          guid: ev.guid,
          parentGuid: undefined,
          parent: undefined,
        };
        v.parent = this.#holderAsParent(v);
        this.#keep(v);
        if (hasImage(ev.info)) this.#match(v, ev.t, ev.kind);
        return;
      }
      case "process_create": {
        const v: ProcessView = {
          pid: ev.pid,
          ppid: ev.ppid,
          start: ev.start,
          info: ev.info,
          guid: ev.guid,
          parentGuid: ev.parentGuid,
          parent: undefined,
        };
        v.parent = this.#holderAsParent(v);
        // a Linux fork runs its parent's image until it execs
        if (v.info === undefined && this.#os === "linux") {
          v.info = v.parent?.info;
        }
        this.#keep(v);
        if (this.#os === "windows" && hasImage(ev.info)) {
          this.#match(v, ev.t, ev.kind);
        }
        return;
      }
      case "exec": {
        let v = this.#procs.get(ev.pid);
        if (!v) {
          v = { pid: ev.pid, ppid: 0, start: ev.t };
          this.#keep(v);
        }
        v.info = ev.info;
        this.#match(v, ev.t, ev.kind);
        return;
      }
      case "lost":
        this.#lost += ev.count;
        if (ev.countUnknown) this.#lostUnknown = true;
        return;
      case "accounts":
        this.#users.clear();
        for (const [uid, name] of ev.users) this.#users.set(uid, name);
        return;
      case "image_hash": {
        const key = `${ev.pid}:${ev.execT}`;
        const w = this.#awaiting.get(key);
        if (w === undefined) return;
        this.#awaiting.delete(key);
        w.done = true;
        const info = w.subject.process.info!;
        this.#matchHashRules(
          w,
          ev.status === "ok" && ev.sha256 !== undefined
            ? { ...info, sha256: ev.sha256 }
            : info,
        );
        return;
      }
    }
  }

  /** Matches, without their hash, those that waited too long for it. */
  #expire(now: number): void {
    const q = this.#awaitQueue;
    while (this.#awaitHead < q.length) {
      const w = q[this.#awaitHead];
      if (
        !w.done && w.t + MAX_HASH_WAIT_NS >= now &&
        this.#awaiting.size <= MAX_AWAITING_HASH
      ) break;
      this.#awaitHead++;
      if (w.done) continue;
      this.#awaiting.delete(w.key);
      w.done = true;
      this.#matchHashRules(w, w.subject.process.info!);
    }
    if (this.#awaitHead > 4096 && this.#awaitHead * 2 > q.length) {
      q.splice(0, this.#awaitHead);
      this.#awaitHead = 0;
    }
  }

  /**
   * The rules on `Hashes` of a process that awaited its hash. Its views are
   * let go after (it may stay in the queue behind an older one a while).
   */
  #matchHashRules(w: AwaitingHash, info: ProcessInfo): void {
    const subject = this.#subject;
    subject.process = { ...w.subject.process, info };
    subject.parent = w.subject.parent;
    subject.grandparent = w.subject.grandparent;
    const fields = this.#fields
      ? this.#fields.reset(subject)
      : (this.#fields = new EventFields(subject, this.#values));
    this.#markSeen(fields);
    let context: HitContext | undefined;
    const rules = this.#index.candidates(fields);
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i];
      if (!this.#hashRules.has(rule) || !rule.test(fields)) continue;
      // (the chain of parents as found at each creation: a pid reused
      // within the wait does not name its new holder)
      context ??= this.#context(subject.process, info, w.t, w.event);
      this.#hit(rule, context);
    }
    w.subject = RELEASED;
  }

  #hit(rule: CompiledRule, context: HitContext): void {
    this.#hitRules.add(rule);
    const r = rule.rule;
    this.#hits.push({
      rule: { id: r.id, title: r.title, level: r.level, file: r.file },
      ...context,
      // each hit its own list (a reader may change one)
      parents: [...context.parents],
    });
  }

  /** Takes the fields `fields` has a value of off the required ones unseen. */
  #markSeen(fields: EventFields): void {
    const unseen = this.#unseenList;
    for (let k = unseen.length - 1; k >= 0; k--) {
      const i = unseen[k];
      if (fields.value(i) !== undefined) {
        this.#unseen.delete(i);
        unseen[k] = unseen[unseen.length - 1];
        unseen.pop();
      }
    }
  }

  /**
   * The process holding `v`'s ppid now, when it can be the parent `v`
   * names: one that started no later than `v` and, when both have a guid,
   * the one `v`'s creation names. Else `undefined`: a pid taken again by a
   * later process (Windows reuses pids within seconds), or a Sysmon
   * creation stamped before its parent's, would name another process.
   */
  #holderAsParent(v: ProcessView): ProcessView | undefined {
    if (v.ppid <= 0) return undefined;
    const p = this.#procs.get(v.ppid);
    if (p === undefined || p === v || p.start > v.start) return undefined;
    if (
      v.parentGuid !== undefined && p.guid !== undefined &&
      p.guid.toLowerCase() !== v.parentGuid.toLowerCase()
    ) return undefined;
    return p;
  }

  /**
   * `v`'s parent: as found at its creation, else (its parent was described
   * after it, or never) the holder of its ppid now, if that can be it.
   */
  #parentOf(v: ProcessView): ProcessView | undefined {
    return v.parent ?? this.#holderAsParent(v);
  }

  /**
   * Makes `v` the holder of its pid. The one it replaces has ended: only
   * its children still reach it, for their parent and grandparent, so its
   * own link goes to a copy of its parent without the parent's link when
   * that parent has ended too (else every process of a long chain of
   * forks would be kept for its last one).
   */
  #keep(v: ProcessView): void {
    const old = this.#procs.get(v.pid);
    const p = old?.parent;
    if (p !== undefined && this.#procs.get(p.pid) !== p) {
      old!.parent = {
        pid: p.pid,
        ppid: p.ppid,
        start: p.start,
        info: p.info,
        guid: p.guid,
        parentGuid: p.parentGuid,
        parent: undefined,
      };
    }
    this.#procs.set(v.pid, v);
  }

  #match(v: ProcessView, t: number, event: HuntHit["event"]): void {
    const info = v.info;
    if (!info) return;
    this.#subjects++;
    const parent = this.#parentOf(v);
    const gp = parent !== undefined ? this.#parentOf(parent) : undefined;
    const grandparent = gp !== v ? gp : undefined;
    // one subject object, changed for each process
    const subject = this.#subject;
    subject.process = v as ProcessView & { info: ProcessInfo };
    subject.parent = parent;
    subject.grandparent = grandparent;
    const fields = this.#fields
      ? this.#fields.reset(subject)
      : (this.#fields = new EventFields(subject, this.#values));
    this.#markSeen(fields);
    // the rules on Hashes wait for the image's hash when the process has
    // none yet (the hash worker's image_hash comes later in the stream)
    const awaitHash = this.#hashesLater && this.#hashRules.size > 0 &&
      info.sha256 === undefined && info.hashes === undefined;
    // what every hit on this process says alike, made at its first hit
    let context: HitContext | undefined;
    const rules = this.#index.candidates(fields);
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i];
      if (awaitHash && this.#hashRules.has(rule)) continue;
      if (!rule.test(fields)) continue;
      context ??= this.#context(v, info, t, event);
      this.#hit(rule, context);
    }
    if (awaitHash) {
      const key = `${v.pid}:${t}`;
      const w: AwaitingHash = {
        key,
        subject: {
          process: { ...v, info },
          parent: parent && { ...parent },
          grandparent: grandparent && { ...grandparent },
        },
        t,
        event,
        done: false,
      };
      // (the same pid and time twice: the earlier one is matched now)
      const before = this.#awaiting.get(key);
      if (before !== undefined) {
        before.done = true;
        this.#matchHashRules(before, before.subject.process.info!);
      }
      this.#awaiting.set(key, w);
      this.#awaitQueue.push(w);
    }
  }

  #context(
    v: ProcessView,
    info: ProcessInfo,
    t: number,
    event: HuntHit["event"],
  ): HitContext {
    // the parents the rules were matched with (a pid taken again since
    // names another process)
    const parents: string[] = [];
    const seen = new Set<ProcessView>([v]);
    for (let c = v; c.ppid > 0;) {
      const p = this.#parentOf(c);
      if (!p || seen.has(p)) {
        if (!p) parents.push(`[${c.ppid}]`);
        break;
      }
      if (parents.length === MAX_PARENTS) {
        // the nearest MAX_PARENTS, then a mark that the chain goes on
        parents.push(CHAIN_GOES_ON);
        break;
      }
      seen.add(p);
      parents.push(`${p.info?.image ?? p.info?.comm ?? ""}[${p.pid}]`);
      c = p;
    }
    const utc = this.#base + BigInt(Math.trunc(t));
    return {
      host: this.header.host,
      recording: this.recording,
      pid: v.pid,
      process: processId(this.header.bootId, v.pid, v.start),
      time: isoFromNs(utc),
      utcNs: utc.toString(),
      t,
      event,
      image: info.image,
      cmdline: info.cmdline ?? info.argv?.join(" "),
      user: info.user ??
        (info.uid !== undefined ? this.#users.get(info.uid) : undefined),
      parents,
    };
  }

  /** The hits and the rules that could not answer. */
  finish(): RecordingHunt {
    // the hashes that never came: matched without them, oldest first
    for (let i = this.#awaitHead; i < this.#awaitQueue.length; i++) {
      const w = this.#awaitQueue[i];
      if (w.done) continue;
      w.done = true;
      this.#matchHashRules(w, w.subject.process.info!);
    }
    this.#awaiting.clear();
    this.#awaitQueue = [];
    this.#awaitHead = 0;
    // in the order of their events (a hit that waited for its hash came
    // later; stable: the hits of one event keep their order)
    this.#hits.sort((a, b) => a.t - b.t);
    const notApplicable = [...this.#notApplicable];
    for (const r of this.#applied) {
      if (this.#hitRules.has(r)) continue;
      const absent = r.required.filter((f) =>
        this.#unseen.has(FIELD_INDEX.get(f)!)
      );
      if (absent.length) {
        notApplicable.push({
          rule: r,
          reason: `needs field${absent.length > 1 ? "s" : ""} ${
            absent.join(", ")
          }, which no process of this recording has (${this.#subjects} processes)`,
        });
      }
    }
    return {
      recording: this.recording,
      host: this.header.host,
      os: this.#os,
      subjects: this.#subjects,
      applied: this.#applied.length - (notApplicable.length -
        this.#notApplicable.length),
      lost: this.#lost,
      lostUnknown: this.#lostUnknown,
      hits: this.#hits,
      notApplicable,
      partial: this.#applied.filter((r) =>
        !notApplicable.some((n) => n.rule === r) &&
        (r.unanswered[this.#os]?.length ?? 0) > 0
      ).map((r) => ({ rule: r, fields: r.unanswered[this.#os]! })),
    };
  }
}

/**
 * The index of the rules of one OS, made once per list of rules (a hunt
 * over many recordings passes the same list to each hunter). Sharing it is
 * safe: what it remembers per value is checked against the value numbers'
 * generation, and the rest depends only on the rules.
 */
const INDEXES = new WeakMap<
  readonly CompiledRule[],
  Partial<Record<HuntOs, RuleIndex>>
>();

function indexFor(
  rules: readonly CompiledRule[],
  os: HuntOs,
  applied: CompiledRule[],
): RuleIndex {
  let byOs = INDEXES.get(rules);
  if (!byOs) INDEXES.set(rules, byOs = {});
  return byOs[os] ??= new RuleIndex(applied);
}

function hasImage(info?: ProcessInfo): boolean {
  return !!info && (info.image !== undefined || info.cmdline !== undefined ||
    info.argv !== undefined);
}
