// The CONNECT proxy and the per-run CA, as the bridge container uses them (HTTPS_PROXY + SSL_CERT_FILE).
import { X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import type { Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { ProxyAgent, fetch as undiciFetch } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import type { FakeSlack } from "../../fakes/slack/api.ts";
import { startFakeSlack } from "../../fakes/slack/index.ts";
import { createStubCore, STUB_APP_TOKEN, STUB_BOT_TOKEN } from "./transport-stub-core.ts";

let fake: FakeSlack;
const lines: string[] = [];

beforeAll(async () => {
  fake = await startFakeSlack({ log: (l) => lines.push(l) }, { createCore: createStubCore });
});
afterAll(async () => {
  await fake.stop();
});

function connectVia(target: string): Promise<{ status: number; socket: Socket }> {
  const proxy = new URL(fake.proxyUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: proxy.hostname, port: proxy.port, method: "CONNECT", path: target });
    req.on("connect", (res, socket) => resolve({ status: res.statusCode ?? 0, socket }));
    req.on("response", (res) => resolve({ status: res.statusCode ?? 0, socket: res.socket }));
    req.on("error", reject);
    req.end();
  });
}

describe("per-run CA", () => {
  it("writes ca.pem with a CA that issued a slack.com server certificate", async () => {
    const pem = await readFile(fake.caFile, "utf8");
    expect(pem).toBe(fake.caCertPem);
    expect(pem).not.toContain("PRIVATE KEY");
    const ca = new X509Certificate(pem);
    expect(ca.ca).toBe(true);
    expect(new Date(ca.validFrom).getTime()).toBeLessThan(Date.now() - 3600_000);
  });
});

describe("CONNECT proxy", () => {
  it("terminates TLS for slack.com and serves the Web API (undici ProxyAgent)", async () => {
    const dispatcher = new ProxyAgent({ uri: fake.proxyUrl, requestTls: { ca: fake.caCertPem } });
    const res = await undiciFetch("https://slack.com/api/auth.test", {
      method: "POST",
      headers: { authorization: `Bearer ${STUB_BOT_TOKEN}` },
      dispatcher,
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, user_id: "U0BOT00001" });
    const files = await undiciFetch("https://files.slack.com/files-pri/F1/x.txt", { dispatcher });
    expect(await files.text()).toBe("file-bytes");
    await dispatcher.close();
  });

  it("issues wss://wss-primary.slack.com URLs through the tunnel and upgrades WebSockets there", async () => {
    const dispatcher = new ProxyAgent({ uri: fake.proxyUrl, requestTls: { ca: fake.caCertPem } });
    const res = await undiciFetch("https://slack.com/api/apps.connections.open", {
      method: "POST",
      headers: { authorization: `Bearer ${STUB_APP_TOKEN}` },
      dispatcher,
    });
    const { url } = (await res.json()) as { url: string };
    expect(url).toMatch(/^wss:\/\/wss-primary\.slack\.com\/link\/\?ticket=[0-9a-f-]{36}&app_id=A0FAKE0001$/);
    await dispatcher.close();
    // Raw CONNECT + TLS + WebSocket, as Go's dialer does it.
    const { status, socket } = await connectVia("wss-primary.slack.com:443");
    expect(status).toBe(200);
    const tls = tlsConnect({
      socket,
      servername: "wss-primary.slack.com",
      ca: fake.caCertPem,
      ALPNProtocols: ["http/1.1"],
    });
    await new Promise<void>((r, j) => tls.once("secureConnect", () => r()).once("error", j));
    const ws = new WebSocket(`${url}&debug_reconnects=true`, {
      createConnection: () => tls,
      headers: { origin: "https://api.slack.com" },
    });
    const hello = await new Promise<any>((r, j) =>
      ws.once("message", (d) => r(JSON.parse(String(d)))).once("error", j),
    );
    expect(hello).toMatchObject({
      type: "hello",
      num_connections: 1,
      connection_info: { app_id: "A0FAKE0001" },
    });
    expect(hello.debug_info.approximate_connection_time).toBe(360);
    ws.terminate();
  });

  it("refuses CONNECT to any other host or port", async () => {
    for (const target of [
      "example.org:443",
      "slack.com:80",
      "127.0.0.1:443",
      "evil-slack.com:443",
      "a.b.slack.com:443",
    ]) {
      const { status, socket } = await connectVia(target);
      expect(status, target).toBe(403);
      socket.destroy();
    }
    expect(lines.some((l) => l.includes("refused CONNECT example.org:443"))).toBe(true);
  });

  it("refuses plain-HTTP proxy requests", async () => {
    const proxy = new URL(fake.proxyUrl);
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest({
        host: proxy.hostname,
        port: proxy.port,
        path: "http://slack.com/api/auth.test",
      });
      req.on("response", (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      req.end();
    });
    expect(status).toBe(403);
  });

  it("answers unknown Slack API methods with HTTP 200 unknown_method, never 500", async () => {
    const res = await fetch(`${fake.webApiUrl}no.such.method`, { method: "POST", body: "garbage" });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: false, error: "unknown_method" });
  });
});

describe("malformed requests", () => {
  it("answer 400 or a Slack error, never crash the server", async () => {
    const { connect } = await import("node:net");
    const port = Number(new URL(fake.webApiUrl).port);
    const raw = (text: string) =>
      new Promise<string>((resolve) => {
        const s = connect(port, "127.0.0.1", () => s.write(text));
        let out = "";
        s.on("data", (d) => {
          out += String(d);
        });
        s.on("close", () => resolve(out));
        s.on("error", () => resolve(out));
        setTimeout(() => s.destroy(), 1000);
      });
    const bad = await raw(
      "GET /link/?ticket=x HTTP/1.1\r\nHost: exa mple\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    );
    expect(bad).toMatch(/^HTTP\/1\.1 40\d/);
    const api = await raw(
      "POST /api/auth.test HTTP/1.1\r\nHost: exa mple\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    );
    expect(api).toMatch(/^HTTP\/1\.1 (200|400)/);
    const res = await fetch(`${fake.webApiUrl}auth.test`, { method: "POST" });
    expect(res.status).toBe(200);
  });
});
