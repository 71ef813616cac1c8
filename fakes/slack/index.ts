// startFakeSlack(): the per-run CA, the core (state + Web API handlers), the Socket Mode hub, the
// HTTP server and the CONNECT proxy, wired together.
import { mkdtemp } from "node:fs/promises";
import type { Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { redact } from "../../src/util/redact.ts";
import type { FakeSlack, FakeSlackOptions, SlackControl } from "./api.ts";
import { createSlackCore } from "./core/index.ts";
import type { SlackCore, SlackCoreOptions } from "./internal.ts";
import { SocketModeHub, type SocketModeHubOptions } from "./socket-mode/hub.ts";
import { createRunCertificates, writeCaFile } from "./transport/ca.ts";
import { createControlHandler } from "./transport/control-http.ts";
import { createFakeSlackServer } from "./transport/http-server.ts";
import { createConnectProxy } from "./transport/proxy.ts";

export type * from "./api.ts";

/** Knobs for tests of the fake itself; not part of the public options. */
export interface FakeSlackInternals {
  /** Replaces the real core (tests of the transport alone). */
  createCore?: (opts: SlackCoreOptions) => SlackCore | Promise<SlackCore>;
  hub?: Omit<SocketModeHubOptions, "log" | "pingIntervalMs" | "firstPingDelayMs" | "ackTimeoutMs">;
}

export async function startFakeSlack(
  opts: FakeSlackOptions = {},
  internals: FakeSlackInternals = {},
): Promise<FakeSlack> {
  const log = (line: string) => opts.log?.(redact(line));
  const host = opts.host ?? "127.0.0.1";
  const proxyHost = opts.proxyHost ?? "127.0.0.1";
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), "fake-slack-")));

  const certs = await createRunCertificates();
  const caFile = await writeCaFile(dir, certs.caCertPem);

  const hub = new SocketModeHub({
    ...internals.hub,
    pingIntervalMs: opts.pingIntervalMs,
    firstPingDelayMs: opts.firstPingDelayMs,
    ackTimeoutMs: opts.ackTimeoutMs,
    redeliveryDelaysMs: opts.redeliveryDelaysMs,
    log,
  });
  const createCore = internals.createCore ?? createSlackCore;
  const core = await createCore({ seed: opts.seed, socketMode: hub, log });
  hub.setWorkspace(core.workspace);

  const control: SlackControl = {
    ...core.control,
    envelopes: () => hub.envelopes(),
    waitForEnvelope: (p, o) => hub.waitForEnvelope(p, o),
    connections: () => hub.connections(),
    waitForConnection: (o) => hub.waitForConnection(o),
    disconnect: (r) => hub.disconnect(r),
    disconnectEvery: (ms, r) => hub.disconnectEvery(ms, r),
    dropAcks: (n) => hub.dropAcks(n),
    delayEnvelopes: (ms) => hub.delayEnvelopes(ms),
    suppressPings: (s) => hub.suppressPings(s),
    connectionLifetime: (ms, o) => hub.connectionLifetime(ms, o),
    clearFaults: () => {
      hub.clearFaults();
      core.clearFaults();
      log("faults cleared");
    },
  };

  const { server, sockets } = createFakeSlackServer({
    handlers: () => core.handlers,
    written: (answer) => core.responseWritten?.(answer),
    control: createControlHandler(control, core.workspace, log),
    upgrade: (req, socket, head) => hub.handleUpgrade(req, socket, head),
    log,
  });
  const proxy = createConnectProxy({
    leafCertPem: certs.leafCertPem,
    leafKeyPem: certs.leafKeyPem,
    target: server,
    log,
  });

  const port = await listen(server, host, opts.port ?? 0);
  let proxyPort: number;
  try {
    proxyPort = await listen(proxy.server, proxyHost, opts.proxyPort ?? 0);
  } catch (err) {
    server.close();
    await hub.close();
    throw err;
  }
  const base = `http://${hostForUrl(host)}:${port}`;
  let stopping: Promise<void> | undefined;
  const fake: FakeSlack = {
    webApiUrl: `${base}/api/`,
    proxyUrl: `http://${hostForUrl(proxyHost)}:${proxyPort}`,
    caCertPem: certs.caCertPem,
    caFile,
    controlUrl: `${base}/_control/`,
    control,
    workspace: core.workspace,
    stop: () => {
      stopping ??= (async () => {
        await hub.close();
        proxy.destroyTunnels();
        for (const s of sockets) s.destroy();
        await Promise.all([closeServer(server, sockets), closeServer(proxy.server, new Set())]);
        log("stopped");
      })();
      return stopping;
    },
  };
  log(`started: web API ${fake.webApiUrl}, proxy ${fake.proxyUrl}, CA ${caFile}`);
  return fake;
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(new Error(`cannot listen on ${host}:${port}: ${err.message}`));
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: Server, sockets: Set<Socket>): Promise<void> {
  return new Promise((resolve) => {
    for (const s of sockets) s.destroy();
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

function hostForUrl(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}
