// The conduwuit family's TOML config: a test template under [global], the operator's TOML overlays
// merged over it, then the few keys the environment owns re-applied. For tuwunel's config path the
// bridge registration becomes a [global.appservice.<id>] section.
import { stringify } from "smol-toml";
import { deepMergeAll, isPlainObject, type PlainObject } from "../../util/deep-merge.ts";
import type { ConduwuitFlavour } from "./flavours.ts";

export const CONDUWUIT_PORT = 8008;

export interface ConduwuitConfigParams {
  serverName: string;
  registrationToken: string;
  /** The bridge registration, when it goes into the config (tuwunel's `config` method). */
  appservice?: PlainObject;
}

export function conduwuitTemplate(f: ConduwuitFlavour, p: ConduwuitConfigParams): PlainObject {
  return {
    global: {
      server_name: p.serverName,
      database_path: f.databasePath,
      // In a container the server must listen on every interface (it logs an error on loopback).
      address: "0.0.0.0",
      port: CONDUWUIT_PORT,
      allow_registration: true,
      registration_token: p.registrationToken,
      // Nothing leaves the run's network: no federation, no key servers, no update checks.
      allow_federation: false,
      trusted_servers: [],
      startup_netburst: false,
      ...f.offline,
      log: "info",
      log_colors: false,
    },
  };
}

/** Keys the environment owns under [global]: the harness reaches the server and creates users through them. */
export const OWNED_GLOBAL_KEYS = [
  "server_name",
  "database_path",
  "address",
  "port",
  "allow_registration",
  "registration_token",
] as const;

/** Template, then the overlays in order, then the owned keys again. */
export function conduwuitConfig(
  f: ConduwuitFlavour,
  p: ConduwuitConfigParams,
  overlays: PlainObject[],
): PlainObject {
  const template = conduwuitTemplate(f, p);
  const merged = deepMergeAll<PlainObject>(template, overlays);
  const global = isPlainObject(merged.global) ? merged.global : {};
  for (const key of OWNED_GLOBAL_KEYS) global[key] = (template.global as PlainObject)[key];
  // A registration_token_file would take precedence over the token the harness registers with.
  delete global.registration_token_file;
  if (p.appservice) {
    const id = String(p.appservice.id);
    const sections = isPlainObject(global.appservice) ? global.appservice : {};
    sections[id] = appserviceSection(p.appservice);
    global.appservice = sections;
  }
  merged.global = global;
  return merged;
}

/** A Synapse-format registration as tuwunel's [global.appservice.<id>] table. */
export function appserviceSection(reg: PlainObject): PlainObject {
  const section: PlainObject = {
    url: reg.url ?? null,
    as_token: reg.as_token,
    hs_token: reg.hs_token,
    sender_localpart: reg.sender_localpart,
    rate_limited: reg.rate_limited ?? false,
  };
  if (reg.receive_ephemeral !== undefined) section.receive_ephemeral = reg.receive_ephemeral;
  if (reg["io.element.msc4190"] !== undefined) section.device_management = reg["io.element.msc4190"];
  const ns = isPlainObject(reg.namespaces) ? reg.namespaces : {};
  for (const kind of ["users", "aliases", "rooms"]) {
    const list = Array.isArray(ns[kind]) ? (ns[kind] as PlainObject[]) : [];
    if (list.length)
      section[kind] = list.map((n) => ({ regex: String(n.regex), exclusive: n.exclusive === true }));
  }
  if (section.url === null) delete section.url;
  return section;
}

export function conduwuitConfigToml(config: PlainObject): string {
  return stringify(config);
}
