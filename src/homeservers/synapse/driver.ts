// The Synapse driver: plain Synapse (homeserver.ts), or Synapse behind matrix-authentication-service
// and a reverse proxy (with-mas.ts) when the environment has `auth: { kind: mas }`.
import {
  type DatabaseRequest,
  HOMESERVER_ALIAS,
  type HomeserverDriver,
  type HomeserverSpec,
} from "../api.ts";
import { SYNAPSE_PORT } from "./config.ts";
import { SYNAPSE_DATABASE, SynapseHomeserver, startSynapse } from "./homeserver.ts";
import { SYNAPSE_INFO } from "./info.ts";
import { internalProxyUrl } from "./proxy.ts";
import { masDatabases, startSynapseWithMas } from "./with-mas.ts";

export const synapseDriver: HomeserverDriver = {
  info: SYNAPSE_INFO,
  databases(spec: HomeserverSpec): DatabaseRequest[] {
    return [{ name: SYNAPSE_DATABASE }, ...(spec.auth ? masDatabases() : [])];
  },
  internalUrl(spec: HomeserverSpec): string {
    return spec.auth ? internalProxyUrl() : `http://${HOMESERVER_ALIAS}:${SYNAPSE_PORT}`;
  },
  async start(ctx) {
    if (ctx.spec.auth) return startSynapseWithMas(ctx);
    return new SynapseHomeserver(await startSynapse(ctx), ctx.postgres, ctx.spec);
  },
};
