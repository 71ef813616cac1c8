// The reverse proxy in front of Synapse + MAS, configured as MAS's documentation shows for nginx:
// `/_matrix/client/*/login`, `/logout` and `/refresh` go to MAS, everything else to Synapse. Clients
// and the bridge use its address as the homeserver URL, as they do in production.
import { type StartedNetwork, type StartedTestContainer, Wait } from "testcontainers";
import type { ServiceLog } from "../../runtime/logs.ts";
import { startServiceContainer } from "../../runtime/start-failure.ts";
import { WatchedContainer } from "../../runtime/watched.ts";
import { withFreePort } from "../../util/net.ts";

export const PROXY_ALIAS = "matrix";
export const PROXY_PORT = 80;

/**
 * nginx site config. Upstreams are variables resolved through Docker's DNS at request time, so a
 * restarted or swapped Synapse or MAS (a new container, a new address) is found again.
 */
export function proxyConfig(synapse: string, mas: string): string {
  const forward = [
    "proxy_set_header Host $host;",
    "proxy_set_header X-Forwarded-For $remote_addr;",
    "proxy_set_header X-Forwarded-Proto $scheme;",
    "proxy_http_version 1.1;",
  ]
    .map((l) => `    ${l}`)
    .join("\n");
  return `resolver 127.0.0.11 valid=1s ipv6=off;
server {
  listen ${PROXY_PORT};
  client_max_body_size 50M;
  set $synapse ${synapse};
  set $mas ${mas};

  # matrix-authentication-service: the compatibility layer for login, logout and refresh
  location ~ ^/_matrix/client/(.*)/(login|logout|refresh) {
    proxy_pass $mas;
${forward}
  }

  location / {
    proxy_pass $synapse;
${forward}
  }
}
`;
}

export interface StartedProxy {
  container: StartedTestContainer;
  /** Host-side URL (loopback). */
  url: string;
  /** URL for containers on the run network. */
  internalUrl: string;
  logFile: string;
}

/**
 * Starts the proxy before what it fronts (Synapse names the proxy's address as its public URL, so
 * that address must be bound first): ready when nginx answers at all (502 while nothing is behind it).
 */
export function startProxy(opts: {
  image: string;
  synapseUrl: string;
  masUrl: string;
  network: StartedNetwork;
  labels: Record<string, string>;
  log: ServiceLog;
}): Promise<StartedProxy> {
  return withFreePort((hostPort) => startProxyOn(hostPort, opts));
}

async function startProxyOn(hostPort: number, opts: Parameters<typeof startProxy>[0]): Promise<StartedProxy> {
  const container = new WatchedContainer(opts.image)
    .withCopyContentToContainer([
      {
        content: proxyConfig(opts.synapseUrl, opts.masUrl),
        target: "/etc/nginx/conf.d/matrix.conf",
        mode: 0o644,
      },
    ])
    .withExposedPorts({ container: PROXY_PORT, host: hostPort })
    .withNetwork(opts.network)
    .withNetworkAliases(PROXY_ALIAS)
    .withLabels(opts.labels)
    .withWaitStrategy(
      Wait.forHttp("/", PROXY_PORT, { abortOnContainerExit: true }).forStatusCodeMatching(
        (status) => status > 0,
      ),
    )
    .withStartupTimeout(60_000)
    .withServiceLog(opts.log);
  const started = await startServiceContainer(container, {
    service: "proxy",
    title: `reverse proxy (${opts.image})`,
    log: opts.log,
  });
  return {
    container: started,
    url: `http://127.0.0.1:${hostPort}`,
    internalUrl: internalProxyUrl(),
    logFile: opts.log.file,
  };
}

export function internalProxyUrl(): string {
  return `http://${PROXY_ALIAS}:${PROXY_PORT}`;
}
