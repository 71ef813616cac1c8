// Synapse in a container: generated homeserver.yaml (template + overlays, kept in the run folder),
// PostgreSQL through the network alias, HMAC shared-secret registration, restart, image swap.
// The homeserver driver (driver.ts) builds on it.
import { ServiceBuilder } from "../../services/builder.ts";
import { HOMESERVER_ALIAS, type RegisteredUser } from "../api.ts";
import "../../runtime/docker-env.ts";
import { createHmac, randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type StartedNetwork, type StartedTestContainer, Wait } from "testcontainers";
import { stringify } from "yaml";
import type { ServiceLog } from "../../runtime/logs.ts";
import { runOneShot } from "../../runtime/one-shot.ts";
import { restartServiceContainer, startServiceContainer } from "../../runtime/start-failure.ts";
import { createVolume, removeVolumeQuietly } from "../../runtime/volumes.ts";
import { WatchedContainer } from "../../runtime/watched.ts";
import type { PlainObject } from "../../util/deep-merge.ts";
import { fetchWithTimeout, withFreePort } from "../../util/net.ts";
import { randomToken } from "../../util/random.ts";
import { registerSecret } from "../../util/redact.ts";
import {
  SYNAPSE_APPSERVICE_DIR,
  SYNAPSE_CONFIG_PATH,
  SYNAPSE_DATA_DIR,
  SYNAPSE_MEDIA_DIR,
  SYNAPSE_PORT,
  synapseConfig,
} from "./config.ts";

export class SynapseContainer extends ServiceBuilder {
  private readonly image: string;
  private serverName = "localhost";
  private overlays: PlainObject[] = [];
  private database?: { host: string; port?: number; user: string; password: string; dbname: string };
  private appservices: { file: string; content: string }[] = [];
  private configDir?: string;
  private startupTimeoutMs = 120_000;
  private command?: string[];

  constructor(image: string) {
    super(HOMESERVER_ALIAS);
    this.image = image;
  }

  withServerName(serverName: string): this {
    this.serverName = serverName;
    return this;
  }

  /** Overlays deep-merged over the template, in order (arrays replace). */
  withConfigOverlays(overlays: PlainObject[]): this {
    this.overlays = [...this.overlays, ...overlays];
    return this;
  }

  withPostgres(db: { host: string; port?: number; user: string; password: string; dbname: string }): this {
    this.database = db;
    return this;
  }

  /** An appservice registration (YAML text), copied to /data/appservices/<file> and listed in the config. */
  withAppserviceRegistration(file: string, content: string): this {
    this.appservices.push({ file, content });
    return this;
  }

  /** Where homeserver.yaml is written for reference (the run folder). */
  withConfigDir(dir: string): this {
    this.configDir = dir;
    return this;
  }

  withStartupTimeout(ms: number): this {
    this.startupTimeoutMs = ms;
    return this;
  }

  /** public_baseurl: where clients reach it (default its own published port; the proxy with MAS). */
  withPublicBaseUrl(url: string): this {
    this.publicBaseUrl = url;
    return this;
  }
  private publicBaseUrl?: string;

  /** Overrides the command (default: the image's own entrypoint/cmd with our config path). */
  withCommand(command: string[]): this {
    this.command = command;
    return this;
  }

  async start(): Promise<StartedSynapse> {
    const mediaVolume = await createMediaVolume(this.image, this.labels);
    try {
      return await withFreePort((hostPort) => this.startOn(hostPort, mediaVolume));
    } catch (err) {
      await removeVolumeQuietly(mediaVolume);
      throw err;
    }
  }

  private async startOn(hostPort: number, mediaVolume: string): Promise<StartedSynapse> {
    if (!this.database) throw new Error("SynapseContainer: withPostgres() is required");
    const sharedSecret = randomToken(40);
    const config = synapseConfig(
      {
        serverName: this.serverName,
        publicBaseUrl: this.publicBaseUrl ?? `http://localhost:${hostPort}/`,
        database: this.database,
        registrationSharedSecret: sharedSecret,
        macaroonSecretKey: randomToken(40),
        formSecret: randomToken(40),
        appserviceFiles: this.appservices.map((a) => a.file),
      },
      this.overlays,
    );
    const configYaml = stringify(config);
    if (this.configDir) writeFileSync(join(this.configDir, "homeserver.yaml"), configYaml, { mode: 0o600 });
    // "ed25519 <key id> <unpadded base64 seed>"
    const signingKey = `ed25519 a_${randomBytes(2).toString("hex")} ${randomBytes(32).toString("base64").replace(/=+$/, "")}\n`;
    registerSecret(signingKey.trim().split(" ")[2]);

    const files = [
      { content: configYaml, target: SYNAPSE_CONFIG_PATH, mode: 0o644 },
      { content: signingKey, target: `${SYNAPSE_DATA_DIR}/signing.key`, mode: 0o644 },
      ...this.appservices.map((a) => ({
        content: a.content,
        target: `${SYNAPSE_APPSERVICE_DIR}/${a.file}`,
        mode: 0o644,
      })),
    ];
    const recipe: SynapseRecipe = {
      serverName: this.serverName,
      files,
      hostPort,
      mediaVolume,
      labels: this.labels,
      network: this.network,
      alias: this.alias,
      log: this.log,
      command: this.command,
      startupTimeoutMs: this.startupTimeoutMs,
    };
    const started = await startSynapseContainer(this.image, recipe);
    return new StartedSynapse(started, {
      image: this.image,
      recipe,
      serverName: this.serverName,
      baseUrl: `http://127.0.0.1:${hostPort}`,
      sharedSecret,
      alias: this.alias,
      log: this.log,
      config,
    });
  }
}

/** Everything needed to (re)create the container: same files, same host port. */
interface SynapseRecipe {
  serverName: string;
  files: { content: string; target: string; mode: number }[];
  hostPort: number;
  /** The media store: a volume, so uploads survive restarts and image swaps. */
  mediaVolume: string;
  labels: Record<string, string>;
  network?: StartedNetwork;
  alias: string;
  log?: ServiceLog;
  command?: string[];
  startupTimeoutMs: number;
}

async function startSynapseContainer(image: string, r: SynapseRecipe): Promise<StartedTestContainer> {
  let container = new WatchedContainer(image)
    .withExposedPorts({ container: SYNAPSE_PORT, host: r.hostPort })
    .withEnvironment({ SYNAPSE_CONFIG_PATH, SYNAPSE_SERVER_NAME: r.serverName, SYNAPSE_REPORT_STATS: "no" })
    .withCopyContentToContainer(r.files)
    .withBindMounts([{ source: r.mediaVolume, target: SYNAPSE_MEDIA_DIR }])
    .withLabels(r.labels)
    .withWaitStrategy(
      Wait.forHttp("/health", SYNAPSE_PORT, { abortOnContainerExit: true }).forStatusCode(200),
    )
    .withStartupTimeout(r.startupTimeoutMs);
  if (r.command) container = container.withCommand(r.command);
  if (r.network) container = container.withNetwork(r.network).withNetworkAliases(r.alias);
  if (r.log) container = container.withServiceLog(r.log);
  return startServiceContainer(container, {
    service: "homeserver",
    title: `Synapse (${image})`,
    log: r.log,
    explain: explainSynapseStart,
  });
}

/** Fixes for start failures operators meet often (the config error alone does not name them). */
export function explainSynapseStart(lines: string[]): string | undefined {
  if (lines.some((l) => /msc3861/.test(l)))
    return (
      "Fix: this Synapse no longer accepts experimental_features.msc3861; pair it with " +
      "matrix-authentication-service through the stable block instead (Synapse >= 1.136): " +
      "matrix_authentication_service: { enabled: true, endpoint: <MAS URL>, secret: <shared secret> } " +
      "(the old admin_token becomes the secret)."
    );
  return undefined;
}

export class StartedSynapse {
  container: StartedTestContainer;
  image: string;
  private readonly recipe: SynapseRecipe;
  readonly serverName: string;
  /** Host-side base URL (loopback, pinned host port: survives restarts). */
  readonly baseUrl: string;
  /** URL for other containers on the run network. */
  readonly internalUrl: string;
  readonly config: PlainObject;
  private readonly sharedSecret: string;
  private readonly log?: ServiceLog;
  private stopped = false;

  constructor(
    container: StartedTestContainer,
    opts: {
      image: string;
      recipe: SynapseRecipe;
      serverName: string;
      baseUrl: string;
      sharedSecret: string;
      alias: string;
      log?: ServiceLog;
      config: PlainObject;
    },
  ) {
    this.container = container;
    this.image = opts.image;
    this.recipe = opts.recipe;
    this.serverName = opts.serverName;
    this.baseUrl = opts.baseUrl;
    this.internalUrl = `http://${opts.alias}:${SYNAPSE_PORT}`;
    this.sharedSecret = opts.sharedSecret;
    this.log = opts.log;
    this.config = opts.config;
  }

  get logFile(): string | undefined {
    return this.log?.file;
  }

  /** Registers a user through /_synapse/admin/v1/register (HMAC with the shared secret). */
  async registerUser(
    localpart: string,
    opts: { admin?: boolean; password?: string; displayName?: string } = {},
  ) {
    const password = opts.password ?? randomToken(24);
    registerSecret(password);
    const url = `${this.baseUrl}/_synapse/admin/v1/register`;
    const nonceRes = await fetchWithTimeout(url);
    if (!nonceRes.ok) throw new Error(`GET ${url}: HTTP ${nonceRes.status} ${await nonceRes.text()}`);
    const { nonce } = (await nonceRes.json()) as { nonce: string };
    const admin = opts.admin ?? false;
    const mac = createHmac("sha1", this.sharedSecret)
      .update(`${nonce}\0${localpart}\0${password}\0${admin ? "admin" : "notadmin"}`)
      .digest("hex");
    const res = await fetchWithTimeout(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        nonce,
        username: localpart,
        password,
        admin,
        displayname: opts.displayName,
        mac,
      }),
    });
    const body = (await res.json()) as any;
    if (!res.ok)
      throw new Error(
        `Registering @${localpart}:${this.serverName} failed: HTTP ${res.status} ${body?.errcode ?? ""} ${body?.error ?? ""}`,
      );
    registerSecret(body.access_token);
    return {
      userId: body.user_id,
      accessToken: body.access_token,
      deviceId: body.device_id,
      password,
    } satisfies RegisteredUser;
  }

  /** Restarts the container (same config, same host port) and waits for /health. */
  restart(): Promise<void> {
    return restartServiceContainer(this.container, { log: this.log, ready: `${this.baseUrl}/health` });
  }

  /**
   * Replaces the container with one of another image: same config, signing key, database, appservice
   * registrations and host port. Resolves when /health answers.
   */
  async swapImage(image: string): Promise<{ durationMs: number }> {
    const t0 = Date.now();
    this.log?.note(`swapping image ${this.image} -> ${image}`);
    await this.whileStopped(async () => {
      this.image = image;
    });
    return { durationMs: Date.now() - t0 };
  }

  /**
   * Stops and removes the container, runs `fn` (e.g. a database copy that needs no open
   * connections), then starts a new container of `this.image` on the same recipe.
   */
  async whileStopped(fn: () => Promise<void>): Promise<void> {
    await this.container.stop({ timeout: 10_000, remove: true });
    await fn();
    this.container = await startSynapseContainer(this.image, this.recipe);
  }

  /** The version the running server reports (`/_synapse/admin/v1/server_version`, no auth needed). */
  async version(): Promise<string> {
    const res = await fetchWithTimeout(`${this.baseUrl}/_synapse/admin/v1/server_version`);
    const body = (await res.json().catch(() => ({}))) as { server_version?: string };
    if (!res.ok || !body.server_version) throw new Error(`server_version: HTTP ${res.status}`);
    return `Synapse ${body.server_version}`;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.container.stop({ timeout: 5_000, remove: true });
    await removeVolumeQuietly(this.recipe.mediaVolume);
  }
}

/** The uid Synapse's image drops to (its `UID`, default 991): the media store must be its own. */
const SYNAPSE_UID = "991:991";

/**
 * A volume for the media store, owned by Synapse's user. (A tmpfs would do until the first `docker
 * restart`, which re-mounts it root-owned and empty.) The chown runs in the Synapse image itself.
 */
async function createMediaVolume(image: string, labels: Record<string, string>): Promise<string> {
  const run = labels["bridge-harness.run"] ?? `standalone-${randomBytes(4).toString("hex")}`;
  const volume = await createVolume(`${run}-synapse-media`, labels);
  const chown = await runOneShot({
    image,
    entrypoint: ["chown"],
    command: [SYNAPSE_UID, SYNAPSE_MEDIA_DIR],
    mounts: [{ source: volume, target: SYNAPSE_MEDIA_DIR }],
    labels: { ...labels, "bridge-harness.service": "synapse-media-setup" },
  });
  if (chown.exitCode !== 0) {
    await removeVolumeQuietly(volume);
    throw new Error(
      `Preparing Synapse's media store in ${image} failed (exit ${chown.exitCode}): ${chown.output.slice(-500)}`,
    );
  }
  return volume;
}
