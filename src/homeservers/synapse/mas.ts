// matrix-authentication-service in a container, as its docs run it: `config check` and `database
// migrate` first (one-shot containers of the same image), then `server`, ready when the internal
// listener's /health answers. Users are created with `mas-cli manage register-user` inside the
// running container (upstream's image has no shell: the binary is exec'd directly).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type StartedNetwork, type StartedTestContainer, Wait } from "testcontainers";
import { stringify } from "yaml";
import type { ServiceLog } from "../../runtime/logs.ts";
import { runOneShot } from "../../runtime/one-shot.ts";
import {
  restartServiceContainer,
  ServiceStartError,
  startServiceContainer,
} from "../../runtime/start-failure.ts";
import { WatchedContainer } from "../../runtime/watched.ts";
import type { PlainObject } from "../../util/deep-merge.ts";
import { fetchWithTimeout } from "../../util/net.ts";
import { redact } from "../../util/redact.ts";
import { MAS_ALIAS, MAS_CONFIG_PATH, MAS_HEALTH_PORT, MAS_WEB_PORT } from "./mas-config.ts";

const MAS_CLI = "/usr/local/bin/mas-cli";

export interface MasRecipe {
  image: string;
  /** The config with extra overlays over the operator's (config changes); [] is the environment's own. */
  buildConfig: (extra: PlainObject[]) => PlainObject;
  config: PlainObject;
  /** Host port MAS's web listener is published on (its public_base names it). */
  webHostPort: number;
  network: StartedNetwork;
  labels: (service: string) => Record<string, string>;
  log: ServiceLog;
  runDir: string;
}

/** The config file as every MAS container of the run gets it. */
function configFile(recipe: MasRecipe) {
  return { content: stringify(recipe.config), target: MAS_CONFIG_PATH, mode: 0o644 };
}

/** `mas-cli <args> -c <config>` in a one-shot container; throws ServiceStartError with its output when it fails. */
async function runStep(recipe: MasRecipe, args: string[], what: string): Promise<void> {
  recipe.log.note(`mas-cli ${args.join(" ")}`);
  const result = await runOneShot({
    image: recipe.image,
    command: [...args, "--config", MAS_CONFIG_PATH],
    files: [configFile(recipe)],
    network: recipe.network,
    labels: recipe.labels("mas-setup"),
    log: recipe.log,
  });
  if (result.exitCode !== 0) {
    const lines = result.output.split(/\r?\n/).filter(Boolean).map(redact);
    throw new ServiceStartError(
      redact(
        `matrix-authentication-service (${recipe.image}): ${what} failed with exit ${result.exitCode}\n${lines.slice(-15).join("\n")}`,
      ),
      { service: "mas", exitCode: result.exitCode, logTail: lines.slice(-15), startLines: lines },
    );
  }
}

async function startServer(recipe: MasRecipe): Promise<StartedTestContainer> {
  const container = new WatchedContainer(recipe.image)
    .withCommand(["server", "--config", MAS_CONFIG_PATH])
    .withCopyContentToContainer([configFile(recipe)])
    .withExposedPorts({ container: MAS_WEB_PORT, host: recipe.webHostPort }, MAS_HEALTH_PORT)
    .withNetwork(recipe.network)
    .withNetworkAliases(MAS_ALIAS)
    .withLabels(recipe.labels("mas"))
    .withWaitStrategy(
      Wait.forHttp("/health", MAS_HEALTH_PORT, { abortOnContainerExit: true }).forStatusCode(200),
    )
    .withStartupTimeout(90_000)
    .withServiceLog(recipe.log);
  return startServiceContainer(container, {
    service: "mas",
    title: `matrix-authentication-service (${recipe.image})`,
    log: recipe.log,
  });
}

export class StartedMas {
  private container: StartedTestContainer | undefined;
  private recipe: MasRecipe;

  private constructor(recipe: MasRecipe, container: StartedTestContainer) {
    this.recipe = recipe;
    this.container = container;
  }

  /** Checks the config, migrates the database, starts the server. The config is kept in the run folder. */
  static async start(recipe: MasRecipe): Promise<StartedMas> {
    writeFileSync(join(recipe.runDir, "mas-config.yaml"), stringify(recipe.config), { mode: 0o600 });
    await runStep(recipe, ["config", "check"], "config check");
    await runStep(recipe, ["database", "migrate"], "database migrate");
    return new StartedMas(recipe, await startServer(recipe));
  }

  get image(): string {
    return this.recipe.image;
  }

  /** MAS as browsers and clients reach it (its public_base). */
  get publicUrl(): string {
    return `http://127.0.0.1:${this.recipe.webHostPort}/`;
  }

  get logFile(): string {
    return this.recipe.log.file;
  }

  get running(): boolean {
    return this.container !== undefined;
  }

  /** `mas-cli manage register-user` in the running server's container; MAS then provisions the Synapse user. */
  async registerUser(localpart: string, password: string, opts: { admin?: boolean } = {}): Promise<void> {
    const c = this.requireRunning("register a user");
    const result = await c.exec([
      MAS_CLI,
      "manage",
      "register-user",
      "--config",
      MAS_CONFIG_PATH,
      "--yes",
      "--password",
      password,
      "--ignore-password-complexity",
      opts.admin ? "--admin" : "--no-admin",
      localpart,
    ]);
    if (result.exitCode !== 0)
      throw new Error(
        redact(
          `mas-cli manage register-user ${localpart} failed (exit ${result.exitCode}): ${result.output.slice(-800)}`,
        ),
      );
  }

  async health(): Promise<boolean> {
    const c = this.container;
    if (!c) return false;
    try {
      const res = await fetchWithTimeout(`http://127.0.0.1:${c.getMappedPort(MAS_HEALTH_PORT)}/health`, {
        timeoutMs: 3_000,
      });
      await res.arrayBuffer();
      return res.status === 200;
    } catch {
      return false;
    }
  }

  /** Stops and removes the server (its database stays); start() brings up a new one on the same config and port. */
  async stop(): Promise<void> {
    const c = this.container;
    if (!c) return;
    this.container = undefined;
    this.recipe.log.note("stopping matrix-authentication-service");
    await c.stop({ timeout: 10_000, remove: true });
  }

  async start(): Promise<void> {
    if (this.container) return;
    this.container = await startServer(this.recipe);
  }

  /**
   * Regenerates the config with `extra` overlays (after the environment's own; [] returns to it),
   * checks it, and restarts the server on it. Users, sessions and the database stay.
   */
  async reconfigure(extra: PlainObject[]): Promise<{ configFile: string }> {
    this.reconfigured++;
    const config = this.recipe.buildConfig(extra);
    const configFile = join(this.recipe.runDir, `mas-config.${this.reconfigured}.yaml`);
    writeFileSync(configFile, stringify(config), { mode: 0o600 });
    const next = { ...this.recipe, config };
    await runStep(next, ["config", "check"], "config check");
    await this.stop();
    this.recipe = next;
    await this.start();
    return { configFile };
  }
  private reconfigured = 0;

  async restart(): Promise<void> {
    const c = this.requireRunning("restart");
    await restartServiceContainer(c, {
      log: this.recipe.log,
      ready: `http://127.0.0.1:${c.getMappedPort(MAS_HEALTH_PORT)}/health`,
    });
  }

  private requireRunning(what: string): StartedTestContainer {
    if (!this.container) throw new Error(`matrix-authentication-service is stopped: cannot ${what}`);
    return this.container;
  }
}
