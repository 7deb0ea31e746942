/**
 * `procrec doctor`: says whether this host can record and what to do when it
 * cannot, and warns when recordings directories (`recordings/`, the
 * service's, any `--dir`) are readable or writable by other users. Exit status 0 when it can record, 2
 * otherwise (warnings do not change it).
 *
 * @module
 */
import type { Command } from "commander";
import { checkHost, type HostReport } from "../record/check_host.ts";
import { checkRecordingDirs } from "../record/check_recording_dirs.ts";
import { checkTimeNamespace } from "../record/recording_header.ts";
import { action, print } from "./_run.ts";
import { addNatsOptions, natsAuth, type NatsFlags } from "./_nats_flags.ts";
import { checkPublish } from "../nats/check_publish.ts";
import { serviceDirs } from "./service.ts";

/** The service's default segment directory (`procrec service --dir`). */
const SERVICE_DIR = "/var/lib/procrec";

/** Renders a host report as text. */
export function renderHostReport(r: HostReport): string {
  const lines = r.checks.map((c) =>
    `${c.ok ? c.warn ? "WARN" : "ok  " : "FAIL"}  ${c.name}: ${c.detail}${
      (!c.ok || c.warn) && c.fix ? `\n        what to do: ${c.fix}` : ""
    }`
  );
  lines.push(
    r.canRecord
      ? `\nThis host can record${
        r.autoSource ? ` (--source auto uses ${r.autoSource.name})` : ""
      }.`
      : "\nThis host cannot record: see what to do above.",
  );
  return lines.join("\n") + "\n";
}

/** Adds `doctor` to the program. */
export function register(program: Command): void {
  const cmd = program
    .command("doctor")
    .description(
      "check whether this host can record (privilege, kernel, library)",
    )
    .option("--json", "print the checks as JSON")
    .option(
      "--dir <dir>",
      "also check this recordings directory (repeatable; recordings/, " +
        "/var/lib/procrec and the service's directory always)",
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option(
      "--config <file>",
      "the service's environment file, whose PROCREC_DIR is checked too",
      "/etc/default/procrec",
    )
    .option(
      "--publish <url>",
      "also check publishing to NATS JetStream: connection, stream, permission",
    );
  addNatsOptions(cmd)
    .addHelpText(
      "after",
      "\nExit status: 0 when this host can record, 2 when it cannot.\n" +
        "Warns (WARN, exit status unchanged) when recordings/, the service's\n" +
        "directory (/var/lib/procrec, PROCREC_DIR of --config or of the\n" +
        "installed unit's environment file) or a --dir, or a file in one, can\n" +
        "be read or written by other users, and says how to fix it.\n" +
        "With --publish, exit status 2 also when this host cannot publish.\n" +
        "Example:\n  sudo ./procrec doctor\n" +
        "  ./procrec doctor --publish nats://10.0.0.5:4222 --nats-creds host.creds\n",
    )
    .action(
      action(
        async (
          flags:
            & {
              json?: boolean;
              dir?: string[];
              config: string;
              publish?: string;
            }
            & NatsFlags,
        ) => {
          const report = await checkHost();
          if (Deno.build.os === "linux") {
            report.checks.push(checkTimeNamespace());
          }
          // the service's directory where its settings put it (found by
          // review: only /var/lib/procrec was looked at)
          const service = [SERVICE_DIR];
          try {
            service.push(...await serviceDirs(flags.config));
          } catch (e) {
            report.checks.push({
              name: "service settings",
              ok: true,
              warn: true,
              detail: (e as Error).message,
            });
          }
          report.checks.push(
            ...await checkRecordingDirs([
              "recordings",
              ...service,
              ...flags.dir ?? [],
            ]),
          );
          let publishOk = true;
          if (flags.publish) {
            const checks = await checkPublish({
              url: flags.publish,
              ...await natsAuth(flags.publish, flags),
              prefix: flags.subjectPrefix,
              host: Deno.hostname(),
            });
            report.checks.push(...checks);
            publishOk = checks.every((c) => c.ok);
          }
          await print(
            flags.json
              ? JSON.stringify(report, null, 2) + "\n"
              : renderHostReport(report),
          );
          return report.canRecord && publishOk ? 0 : 2;
        },
      ),
    );
}
