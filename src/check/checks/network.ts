// Can the services reach each other by the names their configs use? Loopback addresses reach only
// the container itself; with `production.hosts` every other host name must be one of them.
import { type CheckContext, type CheckGroup, isLoopback, urlParts } from "../context.ts";
import type { Position } from "../findings.ts";
import type { Located } from "../sources.ts";

interface Address {
  /** What the address is for, as the message says it. */
  what: string;
  located: Located;
}

function addresses(ctx: CheckContext): Address[] {
  const out: Address[] = [];
  const add = (what: string, located: Located | undefined) => {
    if (located && typeof located.value === "string") out.push({ what, located });
  };
  add("the bridge reaches the homeserver at homeserver.address", ctx.bridge.at(["homeserver", "address"]));
  const reg = ctx.registration;
  if (reg && typeof (reg.data as any)?.url === "string")
    add("the homeserver reaches the bridge at the registration's url", {
      value: (reg.data as any).url,
      file: reg.path,
      line: reg.line(["url"]),
    });
  else
    add("the homeserver reaches the bridge at appservice.address", ctx.bridge.at(["appservice", "address"]));
  add("the bridge reaches its database at database.uri", ctx.bridge.at(["database", "uri"]));
  if (ctx.env.homeserver.kind === "synapse")
    add(
      "Synapse reaches MAS at matrix_authentication_service.endpoint",
      ctx.homeserver.at(["matrix_authentication_service", "endpoint"]),
    );
  if (ctx.mas) add("MAS reaches Synapse at matrix.endpoint", ctx.mas.at(["matrix", "endpoint"]));
  return out;
}

export const networkChecks: CheckGroup = {
  subject: "network",
  checks: [
    {
      id: "network.loopback-address",
      severity: "error",
      catches: "an address one service uses to reach another is localhost / 127.0.0.1 / ::1",
      why: "In a container, loopback is the container itself. The bridge retries an unreachable homeserver.address forever and never gets ready; a loopback registration url makes the homeserver's ping fail (exit code 13); a loopback database host fails the start (exit code 14/15).",
      fix: "Use the name the other service has on the shared network (compose service name, DNS name). If the services really share one network namespace (host networking), list `localhost` in `production.hosts`.",
    },
    {
      id: "network.unknown-host",
      severity: "error",
      catches: "an address names a host that is not in `production.hosts`",
      why: "The name does not resolve on the services' network (typo, a service renamed in the compose file, a host-only name): connections fail as with a wrong address.",
      fix: "Use one of the names in `production.hosts`, or add the name there if it does resolve in production.",
    },
    {
      id: "network.listener-loopback",
      severity: "error",
      catches: "the bridge listens on a loopback address (`appservice.hostname`)",
      why: "The bridge then accepts connections only from inside its own container: the homeserver's ping and transactions fail (M_CONNECTION_FAILED) and the bridge exits with code 13. The example config's default is 127.0.0.1.",
      fix: "Set `appservice.hostname: 0.0.0.0` (or the container's address on the network the homeserver uses).",
    },
  ],
  run(ctx) {
    const hosts = ctx.env.production.hosts;
    const sharedLoopback = hosts?.some(isLoopback) ?? false;
    for (const a of addresses(ctx)) {
      const url = urlParts(a.located.value);
      if (!url) continue;
      const at: Position = { file: a.located.file, line: a.located.line };
      // Never print the URL itself: it may carry a password (database.uri).
      if (isLoopback(url.host)) {
        if (!sharedLoopback)
          ctx.findings.add("network.loopback-address", at, `${a.what}: ${url.host}:${url.port} is loopback`);
      } else if (hosts && !hosts.includes(url.host))
        ctx.findings.add(
          "network.unknown-host",
          at,
          `${a.what}: host "${url.host}" is not in production.hosts (${hosts.join(", ")})`,
        );
    }
    const listen = ctx.bridge.at(["appservice", "hostname"]);
    if (listen && typeof listen.value === "string" && isLoopback(listen.value) && !sharedLoopback)
      ctx.findings.add("network.listener-loopback", listen, `appservice.hostname is ${listen.value}`);
  },
};
