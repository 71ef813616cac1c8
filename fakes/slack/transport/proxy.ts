// HTTPS CONNECT proxy for the bridge container (HTTPS_PROXY). Tunnels to Slack's hosts on 443 are
// terminated here with the per-run leaf certificate and handed to the fake's HTTP server; every other
// destination is refused, so the bridge can never reach the real Slack or anything else.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { Socket } from "node:net";
import { createSecureContext, TLSSocket } from "node:tls";
import { isSlackHost } from "./ca.ts";

export interface ConnectProxyOptions {
  leafCertPem: string;
  leafKeyPem: string;
  /** The server that answers decrypted requests (HTTP and WebSocket upgrades). */
  target: Server;
  log: (line: string) => void;
}

export interface ConnectProxy {
  server: Server;
  /** Destroys every tunnel. */
  destroyTunnels(): void;
}

export function createConnectProxy(opts: ConnectProxyOptions): ConnectProxy {
  const secureContext = createSecureContext({ cert: opts.leafCertPem, key: opts.leafKeyPem });
  const tunnels = new Set<Socket>();
  const track = (s: Socket) => {
    tunnels.add(s);
    s.on("close", () => tunnels.delete(s));
  };
  const server = createServer((req, res) => {
    // Plain-HTTP proxying (absolute-form requests) is not offered.
    opts.log(`proxy: refused plain HTTP ${req.method} ${hostOf(req)}`);
    res
      .writeHead(403, { "content-type": "text/plain", connection: "close" })
      .end("forbidden by bridge-harness");
  });
  server.on("connection", track);
  server.on("connect", (req: IncomingMessage, client: Socket, head: Buffer) => {
    const target = req.url ?? "";
    const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(target);
    const host = m?.[1] ?? "";
    const port = Number(m?.[2]);
    client.on("error", (err) => opts.log(`proxy: tunnel ${target} error: ${err.message}`));
    if (!m || port !== 443 || !isSlackHost(host)) {
      opts.log(`proxy: refused CONNECT ${target}`);
      client.end("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
      return;
    }
    opts.log(`proxy: CONNECT ${host}:${port}`);
    client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
    if (head.length) client.unshift(head);
    const tls = new TLSSocket(client, { isServer: true, secureContext, ALPNProtocols: ["http/1.1"] });
    tls.on("error", (err) => opts.log(`proxy: TLS for ${host} failed: ${err.message}`));
    track(tls);
    opts.target.emit("connection", tls);
  });
  server.on("clientError", (err, socket) => {
    opts.log(`proxy: client error: ${(err as Error).message}`);
    socket.destroy();
  });
  return {
    server,
    destroyTunnels() {
      for (const s of tunnels) s.destroy();
      tunnels.clear();
    },
  };
}

function hostOf(req: IncomingMessage): string {
  try {
    return new URL(req.url ?? "").host || (req.headers.host ?? "?");
  } catch {
    return req.headers.host ?? "?";
  }
}
