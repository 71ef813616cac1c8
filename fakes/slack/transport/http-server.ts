// One Node HTTP server for everything: Slack's Web API and file URLs (answered by the core's msw
// handlers), the control API, and WebSocket upgrades for Socket Mode. The CONNECT proxy feeds its
// decrypted tunnels into the same server, so https://slack.com/... and http://127.0.0.1:PORT/...
// behave the same.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { TLSSocket } from "node:tls";
import { getResponse, type HttpHandler } from "msw";
import { now } from "../../../src/util/clock.ts";

export interface FakeSlackServerOptions {
  handlers: () => HttpHandler[];
  /** Called once an answer from `handlers` is handed to the socket. */
  written?: (answer: Response) => void;
  /** /_control/* requests; returns after answering. */
  control: (req: IncomingMessage, res: ServerResponse, url: URL, body: Buffer) => Promise<void>;
  /** /link/ WebSocket upgrades. */
  upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  log: (line: string) => void;
}

const MAX_BODY = 200 * 1024 * 1024;

/** Header the core reads for RecordedCall.receivedAt (see web-api/index.ts). */
export const RECEIVED_AT_HEADER = "x-harness-received-at";

/** The URL a request was made for: https://<Host> when it came through the TLS tunnel. */
export function requestUrl(req: IncomingMessage): URL {
  const encrypted = Boolean((req.socket as TLSSocket).encrypted);
  const host = req.headers.host ?? (encrypted ? "slack.com" : "127.0.0.1");
  return new URL(req.url ?? "/", `${encrypted ? "https" : "http"}://${host}`);
}

export function createFakeSlackServer(opts: FakeSlackServerOptions): {
  server: Server;
  sockets: Set<Socket>;
} {
  const sockets = new Set<Socket>();
  const server = createServer({ keepAlive: true }, (req, res) => {
    handle(req, res, opts).catch((err: Error) => {
      opts.log(`http: handler failure for ${req.method} ${safePath(req)}: ${err.stack ?? err.message}`);
      if (!res.headersSent) {
        sendJson(res, 200, { ok: false, error: "internal_error" }, { "x-slack-failure": "internal_error" });
      } else {
        res.destroy();
      }
    });
  });
  // Idle keep-alive connections outlive Go's 90 s IdleConnTimeout, so the client always closes
  // first; with Node's 5 s default a POST can race the server's close and fail with EOF.
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 125_000;
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", (err) => opts.log(`http: upgrade socket error: ${err.message}`));
    let url: URL;
    try {
      url = requestUrl(req);
    } catch {
      // A Host header that is not a host: refuse rather than throw out of the event handler.
      socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    if (url.pathname === "/link" || url.pathname === "/link/") {
      opts.upgrade(req, socket, head);
      return;
    }
    opts.log(`http: upgrade refused for ${url.pathname}`);
    socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
  });
  server.on("clientError", (err: Error & { code?: string }, socket) => {
    opts.log(`http: client error: ${err.message}`);
    // A request line or headers beyond Node's limit (16 KB): 431 as Node would send; else 400.
    const status =
      err.code === "HPE_HEADER_OVERFLOW" ? "431 Request Header Fields Too Large" : "400 Bad Request";
    if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    else socket.destroy();
  });
  return { server, sockets };
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  opts: FakeSlackServerOptions,
): Promise<void> {
  // The request event fires when the headers are in: that is the call's arrival, before the body.
  const receivedAt = now();
  const url = requestUrl(req);
  const body = await readBody(req);
  if (body === undefined) {
    sendJson(res, 413, { ok: false, error: "request_too_large" });
    return;
  }
  if (url.pathname.startsWith("/_control/") || url.pathname === "/_control") {
    // Control API only on the plain port, never through the Slack-impersonating tunnel.
    if (url.protocol === "https:") {
      sendJson(res, 404, { ok: false, error: "not_found" });
      return;
    }
    await opts.control(req, res, url, body);
    return;
  }
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined) continue;
    headers.set(k, Array.isArray(v) ? v.join(", ") : v);
  }
  // Overrides any value a client sent.
  headers.set(RECEIVED_AT_HEADER, String(receivedAt));
  const method = req.method ?? "GET";
  const request = new Request(url, {
    method,
    headers,
    body: method === "GET" || method === "HEAD" ? undefined : new Uint8Array(body),
  });
  const started = performance.now();
  const response = await getResponse(opts.handlers(), request);
  const failure = response?.headers.get("x-slack-failure");
  // Path only: a query string may carry a token.
  opts.log(
    `http: ${url.protocol === "https:" ? `${url.host} ` : ""}${method} ${url.pathname} -> ${response?.status ?? "no handler"}` +
      `${failure ? ` ${failure}` : ""} (${(performance.now() - started).toFixed(1)} ms)`,
  );
  if (!response) {
    if (url.pathname.startsWith("/api/")) {
      sendJson(res, 200, { ok: false, error: "unknown_method" }, { "x-slack-failure": "unknown_method" });
    } else {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
    }
    return;
  }
  await sendResponse(res, response, method === "HEAD");
  opts.written?.(response);
}

async function sendResponse(res: ServerResponse, response: Response, head: boolean): Promise<void> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, key) => {
    // Node computes framing itself; the Fetch Response's would be stale.
    if (key === "content-encoding" || key === "transfer-encoding" || key === "connection") return;
    headers[key] = value;
  });
  // Bodies are in memory in the core (JSON, stored files): one write with a length is cheapest,
  // and clients get Content-Length as from Slack.
  const body = response.body && !head ? Buffer.from(await response.arrayBuffer()) : undefined;
  if (body) headers["content-length"] = String(body.length);
  res.writeHead(response.status, response.statusText || undefined, headers);
  res.end(body);
}

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) tooBig = true;
      else chunks.push(c);
    });
    req.on("end", () => resolve(tooBig ? undefined : Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  extraHeaders: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res
    .writeHead(status, {
      "content-type": "application/json; charset=utf-8",
      "content-length": Buffer.byteLength(text),
      ...extraHeaders,
    })
    .end(text);
}

function safePath(req: IncomingMessage): string {
  return (req.url ?? "/").split("?")[0] as string;
}
