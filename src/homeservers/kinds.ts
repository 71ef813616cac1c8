// Static facts per homeserver kind (no Docker needed): for validation, docs and `list`.
import type { HomeserverKind, HomeserverKindInfo } from "./api.ts";
import { OWNED_GLOBAL_KEYS } from "./conduwuit/config.ts";
import { conduwuitKindInfo, FLAVOURS } from "./conduwuit/flavours.ts";
import { SYNAPSE_INFO } from "./synapse/info.ts";

export const HOMESERVER_KIND_INFO: Record<HomeserverKind, HomeserverKindInfo> = {
  synapse: SYNAPSE_INFO,
  continuwuity: conduwuitKindInfo("continuwuity"),
  tuwunel: conduwuitKindInfo("tuwunel"),
};

/** Variables the harness sets on Synapse's container (the image's entrypoint reads them). */
const SYNAPSE_OWNED_ENV = ["SYNAPSE_CONFIG_PATH", "SYNAPSE_SERVER_NAME", "SYNAPSE_REPORT_STATS"];

/**
 * When an environment variable of the operator's would override a setting the harness owns, which
 * one (e.g. "database_path"); undefined otherwise. The conduwuit family applies environment variables
 * over the config file, so CONTINUWUITY_DATABASE_PATH would move the database off its volume.
 */
export function ownedEnvironmentVariable(kind: HomeserverKind, name: string): string | undefined {
  if (kind === "synapse") return SYNAPSE_OWNED_ENV.includes(name) ? name : undefined;
  const upper = name.toUpperCase();
  for (const prefix of FLAVOURS[kind].envPrefixes) {
    if (!upper.startsWith(prefix)) continue;
    const key = upper.slice(prefix.length).toLowerCase();
    if (key === "config") return "the config file path";
    if ((OWNED_GLOBAL_KEYS as readonly string[]).includes(key)) return key;
  }
  return undefined;
}
