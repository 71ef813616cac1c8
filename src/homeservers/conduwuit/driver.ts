// The conduwuit-family driver (continuwuity, tuwunel): a TOML config generated per run with the
// operator's TOML overlays and environment variables, RocksDB on a named volume (so restarts and
// image swaps keep it, and snapshots are tar copies taken while the server is stopped), accounts
// through the registration API with the run's token (the first one becomes the server admin, as on
// a real server), and the bridge registered the way these servers' operators do it.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { type StartedTestContainer, Wait } from "testcontainers";
import { parse as parseYaml } from "yaml";
import { removeContainerQuietly } from "../../runtime/cleanup.ts";
import type { ServiceLog } from "../../runtime/logs.ts";
import {
  restartServiceContainer,
  ServiceStartError,
  startServiceContainer,
} from "../../runtime/start-failure.ts";
import { createVolume, removeVolumeQuietly, saveDirectory, tarStream } from "../../runtime/volumes.ts";
import { WatchedContainer } from "../../runtime/watched.ts";
import { fetchWithTimeout, withFreePort } from "../../util/net.ts";
import { randomToken } from "../../util/random.ts";
import { registerSecret } from "../../util/redact.ts";
import {
  HOMESERVER_ALIAS,
  type HomeserverDriver,
  type HomeserverHealth,
  type HomeserverSpec,
  type HomeserverStartContext,
  type RegisteredUser,
  type StartedHomeserver,
} from "../api.ts";
import { passwordLogin } from "../login.ts";
import { readTomlOverlay } from "../overlays.ts";
import { AdminRoom, registrationCodeBlock } from "./admin-room.ts";
import { CONDUWUIT_PORT, conduwuitConfig, conduwuitConfigToml } from "./config.ts";
import { type ConduwuitFlavour, type ConduwuitKind, conduwuitKindInfo, FLAVOURS } from "./flavours.ts";
import { registerWithToken } from "./registration.ts";
import { FIRST_RUN_TOKEN, readsContinuwuityPrefix, storageVersion } from "./versions.ts";

/** The server's first account: it becomes the server admin and runs the admin-room commands. */
export const ADMIN_LOCALPART = "admin";
const STARTUP_TIMEOUT_MS = 90_000;
const INTERNAL_URL = `http://${HOMESERVER_ALIAS}:${CONDUWUIT_PORT}`;

/** Everything needed to (re)create the container: same config, volume, environment and host port. */
interface Recipe {
  flavour: ConduwuitFlavour;
  configToml: string;
  env: Record<string, string>;
  volume: string;
  hostPort: number;
  labels: Record<string, string>;
  network: HomeserverStartContext["network"];
  log: ServiceLog;
  /** The one-time token a release with a first-run mode printed (captured from its output). */
  firstRun: { token?: string };
}

async function startContainer(image: string, r: Recipe, restoreTar?: string): Promise<StartedTestContainer> {
  const f = r.flavour;
  const env: Record<string, string> = { ...r.env };
  for (const name of f.configFileEnv) env[name] = f.configPath;
  let container = new WatchedContainer(image)
    .withExposedPorts({ container: CONDUWUIT_PORT, host: r.hostPort })
    .withEnvironment(env)
    .withCopyContentToContainer([{ content: r.configToml, target: f.configPath, mode: 0o644 }])
    .withBindMounts([{ source: r.volume, target: f.databasePath, mode: "rw" }])
    .withLabels(r.labels)
    .withNetwork(r.network)
    .withNetworkAliases(HOMESERVER_ALIAS)
    .withWaitStrategy(
      Wait.forHttp("/_matrix/client/versions", CONDUWUIT_PORT, { abortOnContainerExit: true }).forStatusCode(
        200,
      ),
    )
    .withStartupTimeout(STARTUP_TIMEOUT_MS)
    .withServiceLog(r.log);
  if (restoreTar)
    container = container.withCopyArchivesToContainer([
      { tar: tarStream(restoreTar), target: path.posix.dirname(f.databasePath) },
    ]);
  return startServiceContainer(container, {
    service: "homeserver",
    title: `${f.kind} (${image})`,
    log: r.log,
  });
}

class ConduwuitHomeserver implements StartedHomeserver {
  readonly kind: ConduwuitKind;
  readonly serverName: string;
  image: string;
  readonly baseUrl: string;
  readonly internalUrl = INTERNAL_URL;
  readonly extraLogs: Record<string, string> = {};
  readonly notices: string[] = [];
  appserviceRegistration: StartedHomeserver["appserviceRegistration"];
  private container: StartedTestContainer;
  private readonly recipe: Recipe;
  private readonly registrationToken: string;
  private readonly snapshotDir: string;
  private admin?: RegisteredUser;
  private adminRoom?: AdminRoom;

  constructor(opts: {
    spec: HomeserverSpec;
    image: string;
    container: StartedTestContainer;
    recipe: Recipe;
    registrationToken: string;
    runId: string;
  }) {
    this.kind = opts.recipe.flavour.kind;
    this.serverName = opts.spec.serverName;
    this.image = opts.image;
    this.container = opts.container;
    this.recipe = opts.recipe;
    this.registrationToken = opts.registrationToken;
    this.baseUrl = `http://127.0.0.1:${opts.recipe.hostPort}`;
    this.appserviceRegistration = { method: opts.spec.appserviceRegistration };
    // RocksDB copies hold every token of the run: outside the run folder (which CI uploads), removed at stop().
    this.snapshotDir = path.join(tmpdir(), "bridge-harness-snapshots", opts.runId);
  }

  get logFile(): string {
    return this.recipe.log.file;
  }

  get links(): Record<string, string> {
    return { homeserver: this.baseUrl };
  }

  /**
   * Creates the first account (the server admin) and opens the admin room with it. Releases with a
   * first-run mode accept only the one-time token they print until this account exists.
   */
  async createAdmin(): Promise<void> {
    try {
      this.admin = await registerWithToken(this.baseUrl, ADMIN_LOCALPART, this.registrationToken);
    } catch (err) {
      const oneTime = await this.firstRunToken();
      if (!oneTime) throw err;
      this.recipe.log.note(
        "first-run mode: registering the first account with the one-time token printed by the server",
      );
      this.admin = await registerWithToken(this.baseUrl, ADMIN_LOCALPART, oneTime);
    }
    this.adminRoom = await AdminRoom.open(this.baseUrl, this.serverName, this.admin);
  }

  /** The one-time token of first-run mode, once the server printed it (it prints it after listening). */
  private async firstRunToken(): Promise<string | undefined> {
    if (this.kind !== "continuwuity") return undefined;
    const printed = this.recipe.log.waitForLine((l) => l.includes("using the registration token"), {
      timeoutMs: 5_000,
      since: 0,
    });
    return printed.promise.then(
      () => this.recipe.firstRun.token,
      () => undefined,
    );
  }

  private room(): AdminRoom {
    if (!this.adminRoom) throw new Error(`${this.kind}: the admin room is not open`);
    return this.adminRoom;
  }

  /** `!admin appservices register` with the registration YAML, then `appservices list` to verify. */
  async registerAppservice(yaml: string): Promise<void> {
    const id = String((parseYaml(yaml) as { id?: unknown }).id ?? "");
    const answer = await this.room().command("appservices register", {
      body: registrationCodeBlock(yaml),
      expect: /Appservice registered with ID/i,
    });
    await this.verifyAppservice(id, `the admin room answered "${answer.split("\n")[0]}"`);
  }

  /** Checks that the server lists the appservice (whichever way it was registered). */
  async verifyAppservice(id: string, how: string): Promise<void> {
    const list = await this.room().command("appservices list");
    if (!new RegExp(`\\b${id.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\b`).test(list))
      throw new Error(`${this.kind} does not list appservice "${id}" (${how}); it answered: ${list}`);
    this.appserviceRegistration = {
      method: this.appserviceRegistration.method,
      verifiedBy: `${how}; \`!admin appservices list\` lists "${id}"`,
    };
  }

  async registerUser(localpart: string, opts: { admin?: boolean } = {}): Promise<RegisteredUser> {
    if (localpart === ADMIN_LOCALPART && this.admin) return this.admin;
    const user = await registerWithToken(this.baseUrl, localpart, this.registrationToken);
    if (opts.admin) await this.room().command(`users make-user-admin ${user.userId}`, { expect: /admin/i });
    return user;
  }

  /**
   * Releases of continuwuity before v0.5.0-rc.6 read only CONDUIT_/CONDUWUIT_ variables: an
   * operator's CONTINUWUITY_* settings then do nothing, silently. Say so.
   */
  async noticeIgnoredVariables(env: Record<string, string>): Promise<void> {
    if (this.kind !== "continuwuity") return;
    const names = Object.keys(env).filter((n) => n.toUpperCase().startsWith("CONTINUWUITY_"));
    if (!names.length) return;
    const reported = await this.version().catch(() => "");
    if (!reported || readsContinuwuityPrefix(reported)) return;
    const notice = `${reported} ignores ${names.join(", ")}: CONTINUWUITY_* variables are read from continuwuity v0.5.0-rc.6 on; this release reads CONDUWUIT_* (same names otherwise)`;
    this.notices.push(notice);
    this.recipe.log.note(notice);
  }

  login(localpart: string, password: string): Promise<RegisteredUser> {
    return passwordLogin(this.baseUrl, localpart, password);
  }

  async version(): Promise<string> {
    for (const route of this.recipe.flavour.versionRoutes) {
      try {
        const res = await fetchWithTimeout(`${this.baseUrl}${route}`, { timeoutMs: 3_000 });
        const body = (await res.json().catch(() => ({}))) as { name?: string; version?: string };
        if (res.ok && body.version) return `${body.name ?? this.kind} ${body.version}`;
      } catch {
        // try the next route
      }
    }
    throw new Error(
      `${this.kind}: none of ${this.recipe.flavour.versionRoutes.join(", ")} reported a version`,
    );
  }

  async health(): Promise<HomeserverHealth> {
    try {
      const res = await fetchWithTimeout(`${this.baseUrl}/_matrix/client/versions`, { timeoutMs: 3_000 });
      await res.arrayBuffer();
      return { healthy: res.status === 200, detail: `GET /_matrix/client/versions: ${res.status}` };
    } catch (err) {
      return { healthy: false, detail: `GET /_matrix/client/versions: ${(err as Error).message}` };
    }
  }

  async stateVersion(): Promise<string | undefined> {
    return storageVersion(this.recipe.log.lines());
  }

  async restart(): Promise<void> {
    await restartServiceContainer(this.container, {
      log: this.recipe.log,
      ready: `${this.baseUrl}/_matrix/client/versions`,
    });
  }

  containerIds(): string[] {
    return [this.container.getId()];
  }

  async swapImage(image: string): Promise<{ durationMs: number }> {
    const t0 = Date.now();
    this.recipe.log.note(`swapping image ${this.image} -> ${image}`);
    await this.container.stop({ timeout: 10_000, remove: true });
    this.image = image;
    this.container = await startContainer(image, this.recipe);
    return { durationMs: Date.now() - t0 };
  }

  /** Stops the server (RocksDB consistent on disk), copies its database directory, starts it again. */
  async snapshot(name: string): Promise<void> {
    mkdirSync(this.snapshotDir, { recursive: true, mode: 0o700 });
    const stopped = this.container.getId();
    await this.container.stop({ timeout: 10_000, remove: false });
    try {
      await saveDirectory(stopped, this.recipe.flavour.databasePath, this.snapshotFile(name));
    } finally {
      // Removed by id: the stopped container still holds the volume.
      await removeContainerQuietly(stopped);
      this.container = await startContainer(this.image, this.recipe);
    }
  }

  /** Replaces the database directory with a snapshot: a fresh volume filled from the tar before start. */
  async restore(name: string): Promise<void> {
    const file = this.snapshotFile(name);
    await this.container.stop({ timeout: 10_000, remove: true });
    await removeVolumeQuietly(this.recipe.volume);
    await createVolume(this.recipe.volume, this.recipe.labels);
    this.container = await startContainer(this.image, this.recipe, file);
  }

  private snapshotFile(name: string): string {
    if (!/^[a-z0-9_-]+$/i.test(name)) throw new Error(`Invalid snapshot name "${name}" (use [a-z0-9_-])`);
    return path.join(this.snapshotDir, `${name}.tar`);
  }

  async stop(): Promise<void> {
    await this.container.stop({ timeout: 5_000, remove: true }).catch(() => undefined);
    await removeVolumeQuietly(this.recipe.volume);
    rmSync(this.snapshotDir, { recursive: true, force: true });
  }
}

export function conduwuitDriver(kind: ConduwuitKind): HomeserverDriver {
  const flavour = FLAVOURS[kind];
  return {
    info: conduwuitKindInfo(kind),
    databases: () => [],
    internalUrl: () => INTERNAL_URL,
    async start(ctx) {
      const { spec } = ctx;
      const registrationToken = randomToken(32);
      registerSecret(registrationToken);
      const viaConfig = spec.appserviceRegistration === "config";
      const registration = ctx.registration.doc;
      const config = conduwuitConfig(
        flavour,
        { serverName: spec.serverName, registrationToken, appservice: viaConfig ? registration : undefined },
        spec.configOverlays.map(readTomlOverlay),
      );
      const configToml = conduwuitConfigToml(config);
      writeFileSync(path.join(ctx.runDir, `${kind}.toml`), configToml, { mode: 0o600 });
      const labels = ctx.labels("homeserver");
      const volume = await createVolume(`${labels["bridge-harness.run"]}-homeserver`, labels);
      const log = ctx.log("homeserver");
      // Registered before start: the one-time token of a first-run mode must never reach the log file in clear.
      const firstRun: { token?: string } = {};
      log.captureSecrets(FIRST_RUN_TOKEN, (token) => {
        firstRun.token = token;
      });
      let recipe!: Recipe;
      let container: StartedTestContainer;
      try {
        container = await withFreePort((hostPort) => {
          recipe = {
            flavour,
            configToml,
            env: spec.env,
            volume,
            hostPort,
            labels,
            network: ctx.network,
            log,
            firstRun,
          };
          return startContainer(ctx.image, recipe);
        });
      } catch (err) {
        await removeVolumeQuietly(volume);
        throw err;
      }
      const hs = new ConduwuitHomeserver({
        spec,
        image: ctx.image,
        container,
        recipe,
        registrationToken,
        runId: labels["bridge-harness.run"],
      });
      ctx.onTeardown("homeserver", () => hs.stop());
      await hs.noticeIgnoredVariables(spec.env);
      try {
        await hs.createAdmin();
        if (spec.appserviceRegistration === "admin_room") await hs.registerAppservice(ctx.registration.yaml);
        if (viaConfig)
          await hs.verifyAppservice(
            String(registration.id),
            `[global.appservice.${registration.id}] in the config`,
          );
      } catch (err) {
        throw new ServiceStartError(`${kind} (${ctx.image}) started, but: ${(err as Error).message}`, {
          service: "homeserver",
          logTail: recipe.log.lines().slice(-20),
        });
      }
      return hs;
    },
  };
}
