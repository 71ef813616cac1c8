// continuwuity and tuwunel are both conduwuit forks and share one driver; what differs between them
// is data, here. Values are the upstream images' and documentation's (binary path, database path,
// environment prefixes, version routes), so upstream images run unchanged.
import type { AppserviceRegistrationMethod, HomeserverKindInfo } from "../api.ts";

export type ConduwuitKind = "continuwuity" | "tuwunel";

export interface ConduwuitFlavour {
  kind: ConduwuitKind;
  /** Name the server logs and reports ("conduwuit" for continuwuity's binary). */
  binary: string;
  /** RocksDB directory: where upstream's docs mount the data volume. */
  databasePath: string;
  /** Where the harness puts the generated TOML inside the container. */
  configPath: string;
  /** Environment variables naming the config file that every release of the flavour reads. */
  configFileEnv: string[];
  /** Prefixes of config environment variables, in the order the server applies them (later wins). */
  envPrefixes: string[];
  /** Routes reporting `{name, version}`, tried in order (continuwuity renamed its route). */
  versionRoutes: string[];
  /** Settings that keep the server from reaching out of the run's network, besides federation. */
  offline: Record<string, boolean>;
  /** Appservice registration methods; the first is the default. */
  appserviceRegistration: readonly AppserviceRegistrationMethod[];
  unsupportedRegistration: string;
}

export const FLAVOURS: Record<ConduwuitKind, ConduwuitFlavour> = {
  continuwuity: {
    kind: "continuwuity",
    binary: "conduwuit",
    databasePath: "/var/lib/continuwuity",
    configPath: "/etc/continuwuity/continuwuity.toml",
    // CONTINUWUITY_CONFIG only from the releases that added the CONTINUWUITY_ prefix; CONDUWUIT_CONFIG always.
    configFileEnv: ["CONDUWUIT_CONFIG"],
    envPrefixes: ["CONDUIT_", "CONDUWUIT_", "CONTINUWUITY_"],
    versionRoutes: ["/_continuwuity/server_version", "/_conduwuit/server_version"],
    // The update check (v0.5.0-rc4) became the announcements check (later releases, on by default);
    // each release accepts the other name as an alias.
    offline: { allow_check_for_updates: false },
    appserviceRegistration: ["admin_room", "none"],
    unsupportedRegistration:
      "continuwuity has no config option for appservices (a [[appservices]] table is not one): it registers them only through the admin room (`!admin appservices register` with the registration YAML in a code block), which is appservice_registration: admin_room",
  },
  tuwunel: {
    kind: "tuwunel",
    binary: "tuwunel",
    databasePath: "/var/lib/tuwunel",
    configPath: "/etc/tuwunel/tuwunel.toml",
    configFileEnv: ["TUWUNEL_CONFIG"],
    envPrefixes: ["CONDUIT_", "CONDUWUIT_", "TUWUNEL_"],
    versionRoutes: ["/_tuwunel/server_version", "/_conduwuit/server_version"],
    offline: {},
    appserviceRegistration: ["admin_room", "config", "none"],
    unsupportedRegistration: "",
  },
};

export function conduwuitKindInfo(kind: ConduwuitKind): HomeserverKindInfo {
  const f = FLAVOURS[kind];
  return {
    kind,
    configFormat: "toml",
    appserviceRegistration: f.appserviceRegistration,
    unsupportedRegistration: f.unsupportedRegistration,
    auth: [],
    state: "rocksdb",
  };
}

/** The server's own admin-room bot: `@conduit:<server name>` in every conduwuit fork. */
export function serverUserId(serverName: string): string {
  return `@conduit:${serverName}`;
}
