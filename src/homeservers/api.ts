// The homeserver role: one interface, one driver per kind (src/homeservers/<kind>/). The environment
// facade, the steps and the reports use only this file's types; what a kind cannot do is stated in
// its capabilities, never faked.
import type { StartedNetwork } from "testcontainers";
import type { ServiceLog } from "../runtime/logs.ts";
import type { StartedPostgres } from "../services/postgres.ts";
import type { PlainObject } from "../util/deep-merge.ts";

/** Network alias of the homeserver container on the run network. */
export const HOMESERVER_ALIAS = "homeserver";

export const HOMESERVER_KINDS = ["synapse", "continuwuity", "tuwunel"] as const;
export type HomeserverKind = (typeof HOMESERVER_KINDS)[number];

/**
 * How the bridge's appservice registration reaches the homeserver, the way an operator of that
 * server does it:
 * - `config`: the server's own configuration (Synapse: the file listed in app_service_config_files;
 *   tuwunel: a `[global.appservice.<id>]` section);
 * - `admin_room`: `!admin appservices register` with the registration YAML in the admin room
 *   (continuwuity, tuwunel);
 * - `none`: the harness does not register it (the operator's own config is supposed to; used to
 *   reproduce registrations that silently do nothing).
 */
export const APPSERVICE_REGISTRATION_METHODS = ["config", "admin_room", "none"] as const;
export type AppserviceRegistrationMethod = (typeof APPSERVICE_REGISTRATION_METHODS)[number];

/** Authentication in front of the homeserver (Synapse only): matrix-authentication-service. */
export interface HomeserverAuthSpec {
  kind: "mas";
  image: string;
  /** Absolute paths of YAML files deep-merged over MAS's generated config, in order. */
  configOverlays: string[];
  /** The reverse proxy routing login/logout/refresh to MAS and the rest to Synapse. */
  proxyImage: string;
}

/** The homeserver part of a resolved environment (environments/*.yaml after validation). */
export interface HomeserverSpec {
  kind: HomeserverKind;
  image: string;
  serverName: string;
  /** Absolute paths of overlays merged over the generated config (YAML for Synapse, TOML for the conduwuit family). */
  configOverlays: string[];
  /** Environment variables for the homeserver container (the conduwuit family reads config from them). */
  env: Record<string, string>;
  appserviceRegistration: AppserviceRegistrationMethod;
  auth?: HomeserverAuthSpec;
}

/** What a kind is and can do; static, so validation and docs can use it without Docker. */
export interface HomeserverKindInfo {
  kind: HomeserverKind;
  /** Format of config overlays. */
  configFormat: "yaml" | "toml";
  /** Registration methods the kind supports; the first is the default. */
  appserviceRegistration: readonly AppserviceRegistrationMethod[];
  /** Why an unsupported method is not available, with the method to use instead. */
  unsupportedRegistration: string;
  /** Authentication services the kind can run behind. */
  auth: readonly "mas"[];
  /** Where its state lives, for snapshots and reports. */
  state: "postgres" | "rocksdb";
}

export interface RegisteredUser {
  userId: string;
  accessToken: string;
  deviceId: string;
  password: string;
}

/** A database the homeserver (or its auth service) needs on the run's PostgreSQL. */
export interface DatabaseRequest {
  name: string;
  /** A role of its own that owns only this database (least privilege); default: the harness role. */
  owner?: { user: string; password: string };
}

/** The bridge's appservice registration as the homeserver receives it. */
export interface AppserviceRegistration {
  yaml: string;
  doc: PlainObject;
}

export interface HomeserverStartContext {
  spec: HomeserverSpec;
  /** Local image to run (after the image map). */
  image: string;
  /** With spec.auth: the local images of MAS and of the reverse proxy. */
  authImages?: { mas: string; proxy: string };
  network: StartedNetwork;
  /** Docker labels for one of the homeserver's containers ("homeserver", "mas", "proxy"). */
  labels(service: string): Record<string, string>;
  /** The log file of one of its services (opened once, closed by the environment). */
  log(service: string): ServiceLog;
  runDir: string;
  postgres: StartedPostgres;
  /** The databases of `databases()`, created before start. */
  databases: DatabaseRequest[];
  registration: AppserviceRegistration;
  /** Adds a teardown step (runs in reverse order of adding). */
  onTeardown(name: string, fn: () => Promise<void>): void;
  progress(line: string): void;
}

export interface HomeserverHealth {
  healthy: boolean;
  /** What was probed and what it answered. */
  detail: string;
}

/** The authentication service in front of the homeserver (matrix-authentication-service). */
export interface StartedAuthService {
  readonly kind: "mas";
  readonly image: string;
  /** Where a person signs in with a browser. */
  readonly loginUrl: string;
  readonly logFile: string;
  readonly running: boolean;
  health(): Promise<boolean>;
  /** Stops it (its database stays): the homeserver keeps running without it. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /**
   * Restarts it on its config with `overlays` merged over the environment's own (a config change);
   * `[]` returns to the environment's config. Its database stays.
   */
  reconfigure(overlays: Record<string, unknown>[]): Promise<{ configFile: string }>;
}

export interface StartedHomeserver {
  readonly kind: HomeserverKind;
  readonly serverName: string;
  /** Image currently running (local name). */
  readonly image: string;
  /** Client-Server API as the host reaches it (the reverse proxy when MAS is in front). */
  readonly baseUrl: string;
  /** Client-Server API as containers on the run network reach it (the bridge's homeserver.address). */
  readonly internalUrl: string;
  readonly logFile: string;
  /** Other services the homeserver brought (MAS, the proxy): name -> log file. */
  readonly extraLogs: Record<string, string>;
  /** URLs a person uses (homeserver, and with MAS the login page), for --keep and reports. */
  readonly links: Record<string, string>;
  /** What the harness noticed about this server that an operator should know (shown in reports). */
  readonly notices: readonly string[];
  /** How the bridge's registration was installed, and what verified it. */
  readonly appserviceRegistration: { method: AppserviceRegistrationMethod; verifiedBy?: string };
  /** With `auth`: the service clients log in through. */
  readonly auth?: StartedAuthService;
  /** Registers a user the way this kind creates accounts; `admin` makes it a server admin. */
  registerUser(localpart: string, opts?: { admin?: boolean }): Promise<RegisteredUser>;
  /** A new login with a user's password, the way clients log in to this deployment. */
  login(localpart: string, password: string): Promise<RegisteredUser>;
  /** Name and version as the running server reports them ("Synapse 1.163.2", "conduwuit 0.5.0"). */
  version(): Promise<string>;
  health(): Promise<HomeserverHealth>;
  /** Database schema / storage version, for upgrade reports ("schema 93", "RocksDB 17"). */
  stateVersion(): Promise<string | undefined>;
  /** Restarts the server on the same config, state and host port; also brings it back after its container was killed. */
  restart(): Promise<void>;
  /** Ids of the homeserver's own containers now (not MAS or the proxy); fault steps act on them. */
  containerIds(): string[];
  /** Replaces the container with one of another image on the same config, state and host port. */
  swapImage(image: string): Promise<{ durationMs: number }>;
  /** Copies the homeserver's state (PostgreSQL database or RocksDB directory) under a name. */
  snapshot(name: string): Promise<void>;
  /** Replaces the state with a snapshot and restarts on it. */
  restore(name: string): Promise<void>;
  stop(): Promise<void>;
}

export interface HomeserverDriver {
  readonly info: HomeserverKindInfo;
  /** Databases to create on the run's PostgreSQL before start(). */
  databases(spec: HomeserverSpec): DatabaseRequest[];
  /** The Client-Server API URL containers will use (known before start: the bridge config needs it). */
  internalUrl(spec: HomeserverSpec): string;
  start(ctx: HomeserverStartContext): Promise<StartedHomeserver>;
}
