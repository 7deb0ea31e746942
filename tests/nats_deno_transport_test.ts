/**
 * The Deno-socket NATS transport (`cli/nats/deno_transport.ts`) against a
 * peer on a real loopback socket that greets like a NATS server, answers the
 * first PING, then stops reading: closing the connection must not wait for
 * the stuck writes forever.
 */
import { connectDeno } from "../cli/nats/deno_transport.ts";
import { assert } from "./_record_helpers.ts";

const INFO = `INFO ${
  JSON.stringify({
    server_id: "stuck",
    server_name: "stuck",
    version: "2.9.10",
    proto: 1,
    headers: true,
    max_payload: 1048576,
  })
}\r\n`;

Deno.test("the Deno NATS transport closes within a bounded time when the server stops reading", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  let peer: Deno.Conn | undefined;
  const served = (async () => {
    peer = await listener.accept();
    await peer.write(new TextEncoder().encode(INFO));
    // read CONNECT and PING, answer PONG, then read nothing more
    let text = "";
    const buf = new Uint8Array(4096);
    while (!text.includes("PING\r\n")) {
      const n = await peer.read(buf);
      if (n === null) return;
      text += new TextDecoder().decode(buf.subarray(0, n));
    }
    await peer.write(new TextEncoder().encode("PONG\r\n"));
  })();
  try {
    const nc = await connectDeno({
      servers: `127.0.0.1:${port}`,
      reconnect: false,
      pingInterval: 60_000,
    });
    await served;
    // far more than the socket buffers hold: the writes get stuck
    const payload = new Uint8Array(512 * 1024);
    for (let i = 0; i < 100; i++) nc.publish("stuck.subject", payload);
    await new Promise((r) => setTimeout(r, 500));
    const t0 = Date.now();
    let timer: number | undefined;
    const closed = await Promise.race([
      nc.close().then(() => true),
      new Promise<false>((r) => timer = setTimeout(() => r(false), 15_000)),
    ]);
    clearTimeout(timer);
    assert(closed, "close() did not return within 15 s");
    const ms = Date.now() - t0;
    assert(ms < 10_000, `close() took ${ms} ms`);
  } finally {
    try {
      peer?.close();
    } catch { /* closed */ }
    listener.close();
  }
});
