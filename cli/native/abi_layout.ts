/**
 * The layout of `driver/include/procrec_abi.h` as the TypeScript side uses
 * it: each C struct's size and the byte offset of each field, written once.
 * `encodeOptions` and `EventSource.stats` read and write by it, and
 * `tests/abi_layout_test.ts` checks it against what the C compiler reports
 * (`driver/common/abi_layout.c`) and checks {@link decodeRecords} against it,
 * so a change on either side that the other does not follow fails a test.
 *
 * @example
 * ```ts
 * import { ABI_LAYOUT } from "./abi_layout.ts";
 * const h = ABI_LAYOUT.structs.pr_rec_header;
 * if (h.size !== 40 || h.fields.pid !== 32) throw new Error("header layout");
 * ```
 *
 * @module
 */

/** One C struct: its `sizeof` and the `offsetof` of each field. */
export interface StructLayout {
  size: number;
  fields: Record<string, number>;
}

/** The ABI layout, in the shape `driver/common/abi_layout.c` prints. */
export const ABI_LAYOUT = {
  abi_version: 6,
  structs: {
    pr_str: {
      size: 8,
      fields: {
        off: 0,
        len: 4,
      },
    },
    pr_rec_header: {
      size: 40,
      fields: {
        kind: 0,
        flags: 2,
        size: 4,
        seq: 8,
        mono_ns: 16,
        utc_ns: 24,
        pid: 32,
        tid: 36,
      },
    },
    pr_proc_info: {
      size: 144,
      fields: {
        uid: 0,
        gid: 4,
        prov_image: 8,
        prov_argv: 9,
        prov_comm: 10,
        prov_cwd: 11,
        prov_cred: 12,
        prov_file: 13,
        prov_ns: 14,
        prov_cgroup: 15,
        argv_full_len: 16,
        argc: 20,
        image: 24,
        argv: 32,
        comm: 40,
        cwd: 48,
        euid: 56,
        egid: 60,
        loginuid: 64,
        sessionid: 68,
        image_flags: 72,
        integrity: 76,
        dev: 80,
        ino: 88,
        cgroup_id: 96,
        ns_pid: 104,
        ns_mnt: 108,
        ns_net: 112,
        ns_user: 116,
        ns_cgroup: 120,
        reserved2: 124,
        cgroup: 128,
        user: 136,
      },
    },
    pr_rec_process_create: {
      size: 216,
      fields: {
        h: 0,
        parent_pid: 40,
        parent_tid: 44,
        creator_pid: 48,
        creator_tid: 52,
        start_ns: 56,
        status: 64,
        reserved: 68,
        info: 72,
      },
    },
    pr_rec_exec: {
      size: 192,
      fields: {
        h: 0,
        start_ns: 40,
        info: 48,
      },
    },
    pr_rec_process_exit: {
      size: 56,
      fields: {
        h: 0,
        status: 40,
        reserved: 44,
        start_ns: 48,
      },
    },
    pr_rec_thread_create: {
      size: 56,
      fields: {
        h: 0,
        creator_pid: 40,
        creator_tid: 44,
        start_ns: 48,
      },
    },
    pr_rec_thread_exit: {
      size: 48,
      fields: {
        h: 0,
        status: 40,
        reserved: 44,
      },
    },
    pr_rec_comm: {
      size: 48,
      fields: {
        h: 0,
        comm: 40,
      },
    },
    pr_rec_lost: {
      size: 56,
      fields: {
        h: 0,
        reason: 40,
        cpu: 44,
        count: 48,
      },
    },
    pr_rec_snapshot: {
      size: 200,
      fields: {
        h: 0,
        parent_pid: 40,
        reserved: 44,
        start_ns: 48,
        info: 56,
      },
    },
    pr_rec_image_load: {
      size: 64,
      fields: {
        h: 0,
        base: 40,
        size: 48,
        image: 56,
      },
    },
    pr_rule: {
      size: 1048,
      fields: {
        action: 0,
        match: 4,
        uid: 8,
        path_len: 12,
        parent_len: 14,
        cgroup_len: 16,
        argv_len: 18,
        reserved: 20,
        path: 24,
        parent: 280,
        cgroup: 536,
        argv: 792,
      },
    },
    pr_rule_file: {
      size: 64,
      fields: {
        dev: 0,
        ino: 8,
        rule: 16,
        flags: 20,
        size: 24,
        sha256: 32,
      },
    },
    pr_rule_set: {
      size: 16,
      fields: {
        size: 0,
        rules: 4,
        files: 8,
        exempt_pid: 12,
      },
    },
    pr_rec_exec_decision: {
      size: 120,
      fields: {
        h: 0,
        rule: 40,
        action: 44,
        ppid: 48,
        uid: 52,
        euid: 56,
        argc: 60,
        dev: 64,
        ino: 72,
        cgroup_id: 80,
        image: 88,
        argv: 96,
        parent: 104,
        cgroup: 112,
      },
    },
    pr_rec_hash: {
      size: 144,
      fields: {
        h: 0,
        start_ns: 40,
        exec_ns: 48,
        status: 56,
        hash_flags: 60,
        err: 64,
        reserved: 68,
        dev: 72,
        ino: 80,
        size: 88,
        mtime_ns: 96,
        ctime_ns: 104,
        sha256: 112,
      },
    },
    procrec_options: {
      size: 64,
      fields: {
        size: 0,
        source: 4,
        flags: 8,
        ring_bytes: 12,
        rcvbuf_bytes: 16,
        bpf_ring_bytes: 20,
        max_string: 24,
        reserved: 28,
      },
    },
    procrec_stats: {
      size: 160,
      fields: {
        records: 0,
        bytes: 8,
        lost_total: 16,
        lost_enobufs: 24,
        lost_seq_gap: 32,
        lost_ring: 40,
        lost_bpf: 48,
        lost_driver: 56,
        ring_used: 64,
        ring_size: 72,
        enrich_ok: 80,
        enrich_gone: 88,
        kernel_msgs: 96,
        hash_read: 104,
        hash_cached: 112,
        hash_bytes: 120,
        hash_skipped: 128,
        exec_hashed: 136,
        exec_hash_cached: 144,
        reserved: 152,
      },
    },
  },
} as const satisfies {
  abi_version: number;
  structs: Record<string, StructLayout>;
};
