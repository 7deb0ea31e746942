/**
 * Subjects and headers of published recording pieces (see `cli/log/SCHEMA.md`,
 * "Pieces"). Pure.
 *
 * @module
 */

/** The default subject prefix. */
export const DEFAULT_PREFIX = "procrec";

/** Header: the piece's index (0 header, chunk i + 1, trailer chunks + 1). */
export const PIECE_HEADER = "Procrec-Piece";
/** Header: `header`, `chunk` or `trailer`. */
export const KIND_HEADER = "Procrec-Kind";
/** Header: hex SHA-256 of the piece's bytes (the chain hash). */
export const HASH_HEADER = "Procrec-Hash";

/**
 * A host name as one subject token: every character outside
 * `A-Za-z0-9_-` becomes `_`.
 *
 * @example
 * ```ts
 * import { subjectToken } from "./piece_subject.ts";
 * if (subjectToken("web-1.example.org") !== "web-1_example_org") throw new Error();
 * ```
 */
export function subjectToken(host: string): string {
  const t = host.replace(/[^A-Za-z0-9_-]/g, "_");
  return t === "" ? "_" : t;
}

/** Checks a subject prefix: tokens of `A-Za-z0-9_-` separated by dots. */
export function checkPrefix(prefix: string): string {
  if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(prefix)) {
    throw new RangeError(
      `Cannot use subject prefix "${prefix}": expected tokens of A-Za-z0-9_- separated by dots`,
    );
  }
  return prefix;
}

/**
 * `PREFIX.<host>.<recording id>`.
 *
 * @example
 * ```ts
 * import { pieceSubject } from "./piece_subject.ts";
 * if (pieceSubject("procrec", "a.b", "00ff") !== "procrec.a_b.00ff") throw new Error();
 * ```
 */
export function pieceSubject(prefix: string, host: string, id: string): string {
  return `${prefix}.${subjectToken(host)}.${id}`;
}

/**
 * `Nats-Msg-Id` of a piece: `<recording id>:<index>:<hex SHA-256 of the
 * piece>`. The stream drops a message whose id it has seen lately: with the
 * hash in it, only the same bytes. (With `<id>:<index>` alone, a host that
 * saw another's recording id could publish, under its own subject, the
 * next indexes first, and the other's pieces were then dropped as
 * duplicates, acknowledged.)
 *
 * @example
 * ```ts
 * import { pieceMsgId } from "./piece_subject.ts";
 * if (pieceMsgId("ab", 3, "ff00") !== "ab:3:ff00") throw new Error();
 * ```
 */
export function pieceMsgId(id: string, index: number, hash: string): string {
  return `${id}:${index}:${hash}`;
}

/**
 * Splits a piece subject into host token and recording id, or undefined when
 * it does not have the shape `PREFIX.<host>.<32 hex>`.
 *
 * @example
 * ```ts
 * import { parsePieceSubject } from "./piece_subject.ts";
 * const p = parsePieceSubject("procrec", "procrec.h1." + "a".repeat(32));
 * if (p?.host !== "h1") throw new Error();
 * ```
 */
export function parsePieceSubject(
  prefix: string,
  subject: string,
): { host: string; id: string } | undefined {
  if (!subject.startsWith(prefix + ".")) return undefined;
  const rest = subject.slice(prefix.length + 1).split(".");
  if (rest.length !== 2 || !/^[0-9a-f]{32}$/.test(rest[1])) return undefined;
  if (!/^[A-Za-z0-9_-]+$/.test(rest[0])) return undefined;
  return { host: rest[0], id: rest[1] };
}

/**
 * The JetStream stream name for a prefix: upper case, dots and dashes as `_`.
 *
 * @example
 * ```ts
 * import { streamName } from "./piece_subject.ts";
 * if (streamName("procrec") !== "PROCREC") throw new Error();
 * ```
 */
export function streamName(prefix: string): string {
  return prefix.toUpperCase().replace(/[^A-Z0-9_]/g, "_");
}

/**
 * The file that marks a directory as `collect`'s output
 * (`DIR/<host>/<id>.cbor`): `fleet` then takes the host directories for the
 * hosts the server let publish, and names a recording whose header says
 * another.
 */
export const COLLECT_MARK = ".procrec-collect";
