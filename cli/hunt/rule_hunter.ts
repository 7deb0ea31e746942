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
}

/** What the hits on one process creation share. */
type HitContext = Omit<HuntHit, "rule">;

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
    // without the index every rule is tested on every event (what the
    // index must agree with)
    this.#index = options.useIndex === false
      ? { candidates: () => this.#applied }
      : indexFor(rules, this.#os, this.#applied);
  }

  /** Feeds the next event of the recording. */
  add(ev: ProcEvent): void {
    switch (ev.kind) {
      case "process_snapshot": {
        const v: ProcessView = {
          pid: ev.pid,
          ppid: ev.ppid,
          start: ev.start,
          info: ev.info,
          guid: ev.guid,
        };
        this.#procs.set(ev.pid, v);
        if (hasImage(ev.info)) this.#match(v, ev.t, ev.kind);
        return;
      }
      case "process_create": {
        // a Linux fork runs its parent's image until it execs
        const info = ev.info ??
          (this.#os === "linux" ? this.#procs.get(ev.ppid)?.info : undefined);
        const v: ProcessView = {
          pid: ev.pid,
          ppid: ev.ppid,
          start: ev.start,
          info,
          guid: ev.guid,
        };
        this.#procs.set(ev.pid, v);
        if (this.#os === "windows" && hasImage(ev.info)) {
          this.#match(v, ev.t, ev.kind);
        }
        return;
      }
      case "exec": {
        let v = this.#procs.get(ev.pid);
        if (!v) {
          v = { pid: ev.pid, ppid: 0, start: ev.t };
          this.#procs.set(ev.pid, v);
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
    }
  }

  #match(v: ProcessView, t: number, event: HuntHit["event"]): void {
    const info = v.info;
    if (!info) return;
    this.#subjects++;
    const parent = v.ppid > 0 ? this.#procs.get(v.ppid) : undefined;
    const grandparent = parent && parent.ppid > 0 && parent.ppid !== v.pid
      ? this.#procs.get(parent.ppid)
      : undefined;
    // one subject object, changed for each process
    const subject = this.#subject;
    subject.process = v as ProcessView & { info: ProcessInfo };
    subject.parent = parent;
    subject.grandparent = grandparent;
    const fields = this.#fields
      ? this.#fields.reset(subject)
      : (this.#fields = new EventFields(subject, this.#values));
    const unseen = this.#unseenList;
    for (let k = unseen.length - 1; k >= 0; k--) {
      const i = unseen[k];
      if (fields.value(i) !== undefined) {
        this.#unseen.delete(i);
        unseen[k] = unseen[unseen.length - 1];
        unseen.pop();
      }
    }
    // what every hit on this process says alike, made at its first hit
    let context: HitContext | undefined;
    const rules = this.#index.candidates(fields);
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i];
      if (!rule.test(fields)) continue;
      context ??= this.#context(v, info, t, event);
      this.#hitRules.add(rule);
      const r = rule.rule;
      this.#hits.push({
        rule: { id: r.id, title: r.title, level: r.level, file: r.file },
        ...context,
        // each hit its own list (a reader may change one)
        parents: [...context.parents],
      });
    }
  }

  #context(
    v: ProcessView,
    info: ProcessInfo,
    t: number,
    event: HuntHit["event"],
  ): HitContext {
    const parents: string[] = [];
    const seen = new Set<number>([v.pid]);
    let ppid = v.ppid;
    while (ppid > 0) {
      const p = this.#procs.get(ppid);
      if (!p || seen.has(ppid)) {
        if (!p) parents.push(`[${ppid}]`);
        break;
      }
      if (parents.length === MAX_PARENTS) {
        // the nearest MAX_PARENTS, then a mark that the chain goes on
        parents.push(CHAIN_GOES_ON);
        break;
      }
      seen.add(ppid);
      parents.push(`${p.info?.image ?? p.info?.comm ?? ""}[${p.pid}]`);
      ppid = p.ppid;
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
