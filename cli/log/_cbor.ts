/**
 * The one place procrec gets its CBOR codec. The `cbor-x/encode` entry point
 * resolves to cbor-x's plain ES module, which never loads the optional
 * `cbor-extract` Node addon (loading it under Deno kills the process with
 * "undefined symbol"); tests/cbor_native_test.ts checks that it stays so.
 *
 * @module
 */
import { Decoder, Encoder, Tag } from "cbor-x/encode";

/** A fresh encoder: plain maps and arrays, no record structures, no shared state. */
export function newEncoder(): Encoder {
  return new Encoder({
    useRecords: false,
    mapsAsObjects: true,
    tagUint8Array: false,
    variableMapSize: true,
  });
}

/** A fresh decoder: no state carries over between items. */
export function newDecoder(): Decoder {
  return new Decoder({ useRecords: false, mapsAsObjects: true });
}

export { Tag };
