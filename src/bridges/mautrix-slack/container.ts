// mautrix-slack in a container, as upstream runs it: the image's own CMD (docker-run.sh) on a /data
// pre-seeded with the config and registration the harness generated.
//
// Config generation (DESIGN "The harness owns config generation"): the bridge's example config
// (`-e`, one-shot container) -> the user's overlays -> the harness overrides; then `-g` in a one-shot
// container writes the registration and fresh as_token/hs_token into the config. Both resulting
// files are kept in the run folder; the same registration goes to the homeserver.
import { ServiceBuilder } from "../../services/builder.ts";
import "../../runtime/docker-env.ts";
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { StartedNetwork, StartedTestContainer } from "testcontainers";
import { parse, stringify } from "yaml";
import type { BridgeHealth, MatrixUser, SeenEvent, StartedBridge } from "../../environment/api.ts";
import { removeContainerQuietly } from "../../runtime/cleanup.ts";
import { containerLogsText, containerState, containersByLabels, dockerode } from "../../runtime/docker.ts";
import type { ServiceLog } from "../../runtime/logs.ts";
import { runOneShot } from "../../runtime/one-shot.ts";
import { ServiceStartError } from "../../runtime/start-failure.ts";
import { ExitWatch, HttpReadyOrExitWait } from "../../runtime/wait.ts";
import { WatchedContainer } from "../../runtime/watched.ts";
import { now } from "../../util/clock.ts";
import type { PlainObject } from "../../util/deep-merge.ts";
import { fetchWithTimeout, freePort } from "../../util/net.ts";
import { randomToken } from "../../util/random.ts";
import { redact, registerSecret } from "../../util/redact.ts";
import {
  BRIDGE_ALIAS,
  BRIDGE_CA_PATH,
  BRIDGE_DATA_DIR,
  BRIDGE_PORT,
  type BridgeOverrideParams,
  buildBridgeConfig,
  explainExitCode,
  provisioningPrefix,
} from "./config.ts";

export { BRIDGE_ALIAS, BRIDGE_PORT, explainExitCode };

const BINARY = "/usr/bin/mautrix-slack";
/**
 * The bot's prompts are the harness's plumbing, not a measurement: when the homeserver's /sync has
 * not delivered one after this long, it is also looked up with /messages (and reported as held back).
 */
const SYNC_FALLBACK_MS = 3_000;

// ---------------------------------------------------------------------------------------------
// Config generation

export interface GeneratedBridgeConfig {
  config: PlainObject;
  configYaml: string;
  registration: PlainObject;
  registrationYaml: string;
  asToken: string;
  hsToken: string;
  provisioningSecret: string;
  botUserId: string;
  commandPrefix: string;
  /** Files written into the run folder. */
  files: { config: string; registration: string };
}

const exampleCache = new Map<string, string>();

async function imageId(image: string): Promise<string> {
  const docker = await dockerode();
  const info = await docker.getImage(image).inspect();
  return info.Id.replace(/^sha256:/, "");
}

/** The bridge's own example config (`mautrix-slack -e -c -`), cached per image ID (memory + temp dir). */
export async function exampleConfig(image: string, labels: Record<string, string>): Promise<string> {
  const id = await imageId(image);
  const cached = exampleCache.get(id);
  if (cached) return cached;
  const cacheDir = join(tmpdir(), "bridge-harness-cache", "mautrix-slack-example");
  const cacheFile = join(cacheDir, `${id}.yaml`);
  try {
    const text = readFileSync(cacheFile, "utf8");
    if (text.includes("appservice:")) {
      exampleCache.set(id, text);
      return text;
    }
  } catch {
    // not cached yet
  }
  const result = await runOneShot({
    image,
    entrypoint: ["/bin/sh", "-c"],
    command: [`${BINARY} -e -c - 2>/dev/null`],
    labels: { ...labels, "bridge-harness.service": "bridge-example-config" },
  });
  if (result.exitCode !== 0 || !result.output.includes("appservice:")) {
    throw new Error(
      redact(`"${BINARY} -e" in ${image} failed (exit ${result.exitCode}): ${result.output.slice(-2000)}`),
    );
  }
  exampleCache.set(id, result.output);
  try {
    mkdirSync(cacheDir, { recursive: true });
    writeFileSync(cacheFile, result.output);
  } catch {
    // cache is optional
  }
  return result.output;
}

const MARK = "=====bridge-harness";

/** Splits the one-shot's output into the files it printed between markers. */
export function splitMarkedOutput(output: string): Record<string, string> {
  const files: Record<string, string> = {};
  const re = new RegExp(`${MARK}:begin:([a-z]+)=====\\n([\\s\\S]*?)${MARK}:end:\\1=====`, "g");
  for (const m of output.matchAll(re)) files[m[1]] = m[2];
  return files;
}

export async function generateBridgeConfig(opts: {
  image: string;
  overlays: PlainObject[];
  params: Omit<BridgeOverrideParams, "provisioningSecret"> & { provisioningSecret?: string };
  labels: Record<string, string>;
  runDir: string;
  log?: ServiceLog;
}): Promise<GeneratedBridgeConfig> {
  const example = parse(await exampleConfig(opts.image, opts.labels)) as PlainObject;
  opts.log?.note(`example config of ${opts.image} (${BINARY} -e) loaded; overlays: ${opts.overlays.length}`);
  const provisioningSecret = opts.params.provisioningSecret ?? randomToken(32);
  registerSecret(provisioningSecret);
  const merged = buildBridgeConfig(example, opts.overlays, { ...opts.params, provisioningSecret });
  const dir = "/tmp/bridge-harness";
  const script = [
    "set -e",
    // Everything goes through stdout, in order: Docker does not keep the relative order of stdout
    // and stderr lines, and an interleaved line would corrupt the files printed below.
    `${BINARY} -g -c ${dir}/config.yaml -r ${dir}/registration.yaml >${dir}/generate.out 2>&1 || { rc=$?; cat ${dir}/generate.out; exit $rc; }`,
    `echo '${MARK}:begin:config====='`,
    `cat ${dir}/config.yaml`,
    `echo '${MARK}:end:config====='`,
    `echo '${MARK}:begin:registration====='`,
    `cat ${dir}/registration.yaml`,
    `echo '${MARK}:end:registration====='`,
  ].join("\n");
  const result = await runOneShot({
    image: opts.image,
    entrypoint: ["/bin/sh", "-c"],
    command: [script],
    files: [{ content: stringify(merged), target: `${dir}/config.yaml`, mode: 0o600 }],
    labels: { ...opts.labels, "bridge-harness.service": "bridge-generate-registration" },
  });
  opts.log?.note(`${BINARY} -g in ${opts.image}: exit ${result.exitCode}`);
  const files = splitMarkedOutput(result.output);
  if (result.exitCode !== 0 || !files.config || !files.registration) {
    throw new Error(
      redact(
        `"${BINARY} -g" in ${opts.image} failed (exit ${result.exitCode}: ${explainExitCode(result.exitCode)}): ${result.output.slice(-2000)}`,
      ),
    );
  }
  const config = parse(files.config) as PlainObject;
  const registration = parse(files.registration) as PlainObject;
  const as = config.appservice as PlainObject;
  const asToken = String(as.as_token);
  const hsToken = String(as.hs_token);
  registerSecret(asToken);
  registerSecret(hsToken);
  if (registration.as_token !== asToken || registration.hs_token !== hsToken) {
    throw new Error("mautrix-slack -g wrote tokens to the registration that differ from the config");
  }
  const configFile = join(opts.runDir, "bridge-config.yaml");
  const registrationFile = join(opts.runDir, "bridge-registration.yaml");
  writeFileSync(configFile, files.config, { mode: 0o600 });
  writeFileSync(registrationFile, files.registration, { mode: 0o600 });
  const bot = (as.bot as PlainObject | undefined)?.username ?? "slackbot";
  const domain = (config.homeserver as PlainObject).domain;
  return {
    config,
    configYaml: files.config,
    registration,
    registrationYaml: files.registration,
    asToken,
    hsToken,
    provisioningSecret,
    botUserId: `@${bot}:${domain}`,
    commandPrefix: String((config.bridge as PlainObject | undefined)?.command_prefix ?? "!slack"),
    files: { config: configFile, registration: registrationFile },
  };
}

/**
 * A new config.yaml for a running environment (config-change steps): example -> overlays -> harness
 * overrides, with the as_token/hs_token of `previous` so the homeserver's registration stays valid.
 * No `-g`: the registration does not change.
 */
export async function regenerateBridgeConfig(opts: {
  image: string;
  overlays: PlainObject[];
  params: BridgeOverrideParams;
  previous: GeneratedBridgeConfig;
  labels: Record<string, string>;
  runDir: string;
  fileName: string;
}): Promise<GeneratedBridgeConfig> {
  const example = parse(await exampleConfig(opts.image, opts.labels)) as PlainObject;
  const config = buildBridgeConfig(example, opts.overlays, opts.params);
  const as = config.appservice as PlainObject;
  as.as_token = opts.previous.asToken;
  as.hs_token = opts.previous.hsToken;
  const configYaml = stringify(config);
  const file = join(opts.runDir, opts.fileName);
  writeFileSync(file, configYaml, { mode: 0o600 });
  const bot = (as.bot as PlainObject | undefined)?.username ?? "slackbot";
  return {
    ...opts.previous,
    config,
    configYaml,
    botUserId: `@${bot}:${(config.homeserver as PlainObject).domain}`,
    commandPrefix: String((config.bridge as PlainObject | undefined)?.command_prefix ?? "!slack"),
    files: { ...opts.previous.files, config: file },
  };
}

// ---------------------------------------------------------------------------------------------
// Errors

/** Rejection of start/restart/swapImage/reconfigure (the BridgeStartFailure shape of api.ts). */
export class BridgeStartError extends ServiceStartError {
  readonly fatalLines: string[];
  constructor(
    message: string,
    exitCode: number | undefined,
    logTail: string[],
    fatalLines: string[] = [],
    startLines: string[] = logTail,
  ) {
    super(message, { service: "bridge", exitCode, logTail, startLines });
    this.name = "BridgeStartError";
    this.fatalLines = fatalLines;
  }
}

/** FATAL lines (zerolog "FTL") and the INFO explanation lines right after them. */
export function fatalLinesOf(lines: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/\bFTL\b|"level":"fatal"/.test(lines[i])) continue;
    out.push(lines[i]);
    for (let j = i + 1; j < Math.min(lines.length, i + 3); j++) {
      if (/\bINF\b|"level":"info"/.test(lines[j])) out.push(lines[j]);
      else break;
    }
  }
  return out;
}

export function describeBridgeExit(image: string, exitCode: number, logTail: string[]): string {
  return redact(
    `mautrix-slack (${image}) exited during start with code ${exitCode}: ${explainExitCode(exitCode)}\n` +
      `Last ${logTail.length} log lines:\n${logTail.map((l) => `  ${l}`).join("\n")}`,
  );
}

// ---------------------------------------------------------------------------------------------
// Container

export interface BridgeProxySettings {
  /** http://<gateway>:<port> of the fake Slack's CONNECT proxy. */
  proxyUrl: string;
  /** PEM of the CA that signs the fake's slack.com certificates. */
  caPem: string;
}

/** Hosts the bridge reaches directly, not through the Slack proxy: the run's own services. */
function noProxy(generated: GeneratedBridgeConfig): string {
  const address = String((generated.config.homeserver as PlainObject | undefined)?.address ?? "");
  const homeserver = URL.canParse(address) ? new URL(address).hostname : "homeserver";
  return [...new Set([homeserver, "homeserver", "localhost", "127.0.0.1", "bridge", "postgres"])].join(",");
}

export class MautrixSlackContainer extends ServiceBuilder {
  private image: string;
  private generated?: GeneratedBridgeConfig;
  private proxy?: BridgeProxySettings;
  private startupTimeoutMs = 90_000;
  private extraEnv: Record<string, string> = {};
  private regenerate?: (extraOverlays: PlainObject[], fileName: string) => Promise<GeneratedBridgeConfig>;

  constructor(image: string) {
    super(BRIDGE_ALIAS);
    this.image = image;
  }

  withGeneratedConfig(generated: GeneratedBridgeConfig): this {
    this.generated = generated;
    return this;
  }

  withSlackProxy(proxy: BridgeProxySettings | undefined): this {
    this.proxy = proxy;
    return this;
  }

  withEnvironment(env: Record<string, string>): this {
    this.extraEnv = { ...this.extraEnv, ...env };
    return this;
  }

  withStartupTimeout(ms: number): this {
    this.startupTimeoutMs = ms;
    return this;
  }

  /** Enables reconfigure(): how to build a config with extra overlays. */
  withRegenerator(
    fn: (extraOverlays: PlainObject[], fileName: string) => Promise<GeneratedBridgeConfig>,
  ): this {
    this.regenerate = fn;
    return this;
  }

  async start(): Promise<StartedMautrixSlack> {
    if (!this.generated) throw new Error("MautrixSlackContainer: withGeneratedConfig() is required");
    const handle = new StartedMautrixSlack({
      image: this.image,
      network: this.network,
      alias: this.alias,
      labels: this.labels,
      log: this.log,
      generated: this.generated!,
      proxy: this.proxy,
      startupTimeoutMs: this.startupTimeoutMs,
      extraEnv: this.extraEnv,
      regenerate: this.regenerate,
    });
    await handle.start();
    return handle;
  }
}

interface BridgeSettings {
  image: string;
  network?: StartedNetwork;
  alias: string;
  labels: Record<string, string>;
  log?: ServiceLog;
  generated: GeneratedBridgeConfig;
  proxy?: BridgeProxySettings;
  startupTimeoutMs: number;
  extraEnv: Record<string, string>;
  /** Builds a new config from extra overlays (set by the environment; enables reconfigure()). */
  regenerate?: (extraOverlays: PlainObject[], fileName: string) => Promise<GeneratedBridgeConfig>;
}

type LoginTokens = { botToken: string; appToken: string };

export class StartedMautrixSlack implements StartedBridge {
  private settings: BridgeSettings;
  private container: StartedTestContainer | undefined;
  private hostPort = 0;
  private readonly managementRooms = new Map<string, string>();
  /** now() when the last start() reached /ready, and how long it took. */
  lastStart: { readyAt: number; durationMs: number } | undefined;

  constructor(settings: BridgeSettings) {
    this.settings = settings;
    registerSecret(settings.generated.provisioningSecret);
  }

  get image(): string {
    return this.settings.image;
  }

  get botUserId(): string {
    return this.settings.generated.botUserId;
  }

  get generated(): GeneratedBridgeConfig {
    return this.settings.generated;
  }

  get url(): string {
    return `http://127.0.0.1:${this.hostPort}`;
  }

  get logFile(): string {
    return this.settings.log?.file ?? "";
  }

  get running(): boolean {
    return this.container !== undefined;
  }

  get containerId(): string | undefined {
    return this.container?.getId();
  }

  containerIds(): string[] {
    return this.container ? [this.container.getId()] : [];
  }

  managementRoom(user: MatrixUser): string | undefined {
    return this.managementRooms.get(user.userId);
  }

  async logLines(): Promise<string[]> {
    return this.settings.log?.lines() ?? [];
  }

  /** Starts a new bridge container (config, registration and database as before) and waits for /ready. */
  async start(): Promise<void> {
    if (this.container) return;
    const s = this.settings;
    const t0 = now();
    const instance = randomBytes(6).toString("hex");
    const labels = { ...s.labels, "bridge-harness.instance": instance };
    const env: Record<string, string> = { ...s.extraEnv };
    if (s.proxy) {
      Object.assign(env, {
        HTTPS_PROXY: s.proxy.proxyUrl,
        HTTP_PROXY: s.proxy.proxyUrl,
        https_proxy: s.proxy.proxyUrl,
        http_proxy: s.proxy.proxyUrl,
        NO_PROXY: noProxy(s.generated),
        no_proxy: noProxy(s.generated),
        SSL_CERT_FILE: BRIDGE_CA_PATH,
      });
    }
    const files = [
      { content: s.generated.configYaml, target: `${BRIDGE_DATA_DIR}/config.yaml`, mode: 0o600 },
      { content: s.generated.registrationYaml, target: `${BRIDGE_DATA_DIR}/registration.yaml`, mode: 0o600 },
    ];
    if (s.proxy) files.push({ content: s.proxy.caPem, target: BRIDGE_CA_PATH, mode: 0o644 });
    const wait = new HttpReadyOrExitWait("/_matrix/mau/ready", BRIDGE_PORT).withStartupTimeout(
      s.startupTimeoutMs,
    );
    const watch = new ExitWatch(containerState);
    // Pinned across restarts and network reconnects, so the harness keeps reaching the same URL.
    this.hostPort ||= await freePort();
    let container = new WatchedContainer(s.image, watch)
      .withExposedPorts({ container: BRIDGE_PORT, host: this.hostPort })
      .withEnvironment(env)
      .withCopyContentToContainer(files)
      .withLabels(labels)
      .withWaitStrategy(wait);
    if (s.network) container = container.withNetwork(s.network).withNetworkAliases(s.alias);
    let streamEnded: Promise<void> | undefined;
    const logMark = s.log?.mark() ?? 0;
    let consumerAttached = false;
    if (s.log) {
      const log = s.log;
      log.note(`starting ${s.image}`);
      container = container.withLogConsumer((stream) => {
        consumerAttached = true;
        streamEnded = new Promise<void>((resolve) => {
          stream.on("end", () => resolve());
          stream.on("close", () => resolve());
        });
        log.attach(stream);
      });
    }
    const starting = container.start();
    try {
      // Whichever comes first: ready, or the container exiting (fails fast instead of testcontainers'
      // 10 s wait for the ports of a container that is already gone).
      this.container = await Promise.race([
        starting,
        watch.exited.then((exit) => {
          throw exit;
        }),
      ]);
      watch.stop();
    } catch (err) {
      watch.stop();
      starting.catch(() => undefined);
      // Find out whether the bridge exited, and with which code (the watch or the wait strategy saw
      // it, or the container is still there).
      let exitCode = (err as { exitCode?: number })?.exitCode ?? wait.exit?.exitCode;
      const ids = new Set(
        await containersByLabels({ "bridge-harness.instance": instance }).catch(() => [] as string[]),
      );
      if (watch.containerId) ids.add(watch.containerId);
      for (const id of ids) {
        const state = await containerState(id);
        if (exitCode === undefined && state && !state.running && state.status !== "created")
          exitCode = state.exitCode;
        // The log consumer is only attached once ports are bound: fetch what it missed.
        if (!consumerAttached && s.log) {
          const text = await containerLogsText(id);
          for (const line of text.split(/\r?\n/)) if (line) s.log.write(line);
        }
        await removeContainerQuietly(id).catch(() => undefined);
      }
      if (streamEnded) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([streamEnded, new Promise((r) => (timer = setTimeout(r, 2_000)))]);
        clearTimeout(timer);
      }
      const startLines = s.log?.linesSince(logMark) ?? [];
      const tail = startLines.slice(-20);
      const fatal = fatalLinesOf(startLines);
      if (exitCode !== undefined) {
        s.log?.note(`container exited with code ${exitCode} (${explainExitCode(exitCode)})`);
        throw new BridgeStartError(
          describeBridgeExit(s.image, exitCode, tail),
          exitCode,
          tail,
          fatal,
          startLines,
        );
      }
      const reason = err instanceof Error ? err.message : String(err);
      throw new BridgeStartError(
        redact(
          `mautrix-slack (${s.image}) did not become ready: ${reason}\nLast ${tail.length} log lines:\n${tail.map((l) => `  ${l}`).join("\n")}`,
        ),
        undefined,
        tail,
        fatal,
      );
    }
    const readyAt = now();
    this.lastStart = { readyAt, durationMs: readyAt - t0 };
    s.log?.note(`ready in ${((readyAt - t0) / 1000).toFixed(1)} s`);
  }

  /** Stops and removes the bridge container (database, config and registration stay). */
  async stop(): Promise<void> {
    const c = this.container;
    if (!c) return;
    this.container = undefined;
    this.settings.log?.note("stopping container");
    await c.stop({ timeout: 10_000, remove: true });
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Replaces the container with one of another image on the same config, database and alias. */
  async swapImage(image: string): Promise<{ durationMs: number }> {
    const t0 = now();
    await this.stop();
    this.settings = { ...this.settings, image };
    await this.start();
    return { durationMs: now() - t0 };
  }

  /**
   * Regenerates config.yaml with extra overlays (after the environment's own) and restarts the
   * bridge with it; `[]` returns to the environment's config. Tokens and registration are kept.
   */
  async reconfigure(
    extraOverlays: Record<string, unknown>[],
  ): Promise<{ durationMs: number; configFile?: string }> {
    if (!this.settings.regenerate) throw new Error("reconfigure() is not available for this bridge");
    const t0 = now();
    this.reconfigureCount++;
    const generated = await this.settings.regenerate(
      extraOverlays as PlainObject[],
      `bridge-config.${this.reconfigureCount}.yaml`,
    );
    await this.stop();
    this.settings = { ...this.settings, generated };
    await this.start();
    return { durationMs: now() - t0, configFile: generated.files.config };
  }

  private reconfigureCount = 0;

  // -------------------------------------------------------------------------------------------
  // HTTP: health and provisioning

  private async provisioning(method: string, path: string, user: MatrixUser, body?: unknown): Promise<any> {
    const sep = path.includes("?") ? "&" : "?";
    const url = `${this.url}${provisioningPrefix(this.settings.generated.config)}${path}${sep}user_id=${encodeURIComponent(user.userId)}`;
    const res = await fetchWithTimeout(url, {
      method,
      headers: {
        authorization: `Bearer ${this.settings.generated.provisioningSecret}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      timeoutMs: 30_000,
    });
    const text = await res.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = { raw: text };
    }
    if (!res.ok) {
      throw new Error(
        redact(
          `${method} ${provisioningPrefix(this.settings.generated.config)}${path}: HTTP ${res.status} ${json?.errcode ?? ""} ${json?.error ?? text.slice(0, 300)}`,
        ),
      );
    }
    return json;
  }

  /** Provisioning whoami for a user (login states, management room). */
  async whoami(user: MatrixUser): Promise<any> {
    return this.provisioning("GET", "/v3/whoami", user);
  }

  async health(user?: MatrixUser): Promise<BridgeHealth> {
    if (!this.container) return { live: false, ready: false };
    const probe = async (path: string) => {
      try {
        const res = await fetchWithTimeout(`${this.url}${path}`, { timeoutMs: 3_000 });
        await res.arrayBuffer();
        return res.status === 200;
      } catch {
        return false;
      }
    };
    const [live, ready] = await Promise.all([probe("/_matrix/mau/live"), probe("/_matrix/mau/ready")]);
    let state: string | undefined;
    if (user && live) {
      try {
        const who = await this.whoami(user);
        const login = who?.logins?.[0];
        state = login?.state?.state_event || login?.state_event || undefined;
      } catch {
        state = undefined;
      }
    }
    return { live, ready, state };
  }

  async loginAppProvisioning(user: MatrixUser, tokens: LoginTokens): Promise<void> {
    registerSecret(tokens.botToken);
    registerSecret(tokens.appToken);
    const start = await this.provisioning("POST", "/v3/login/start/app", user, {});
    if (start?.type !== "user_input" || !start.login_id || !start.step_id) {
      throw new Error(redact(`Unexpected login start response: ${JSON.stringify(start)}`));
    }
    const step = await this.provisioning(
      "POST",
      `/v3/login/step/${encodeURIComponent(start.login_id)}/${encodeURIComponent(start.step_id)}/user_input`,
      user,
      { bot_token: tokens.botToken, app_token: tokens.appToken },
    );
    if (step?.type !== "complete") throw new Error(redact(`Login did not complete: ${JSON.stringify(step)}`));
  }

  // -------------------------------------------------------------------------------------------
  // Chat login in the management room

  /** Creates (once per user) the DM with the bridge bot that becomes the user's management room. */
  async ensureManagementRoom(user: MatrixUser, opts: { timeoutMs?: number } = {}): Promise<string> {
    const existing = this.managementRooms.get(user.userId);
    if (existing) return existing;
    const timeoutMs = opts.timeoutMs ?? 30_000;
    const mark = user.mark();
    const roomId = await user.createRoom({ invite: [this.botUserId], isDirect: true });
    // The bot joins, then greets; the greeting says whether this room became the management room.
    const greeting = await user.waitForEvent(
      (e) => e.roomId === roomId && e.sender === this.botUserId && e.type === "m.room.message",
      {
        timeoutMs,
        since: mark,
        roomId,
        serverFallbackAfterMs: SYNC_FALLBACK_MS,
        describe: `the bridge bot's greeting in the new DM ${roomId}`,
      },
    );
    const body = String(greeting.content.body ?? "");
    if (!/management room/i.test(body)) {
      throw new Error(
        `The bridge bot did not make ${roomId} the management room of ${user.userId} (it said: ${JSON.stringify(body.slice(0, 200))}). ` +
          "The user already has one; the bridge keeps the first.",
      );
    }
    this.managementRooms.set(user.userId, roomId);
    return roomId;
  }

  /** Sends a command in the management room and resolves with the bot's first reply after it. */
  async command(
    user: MatrixUser,
    text: string,
    opts: { timeoutMs?: number; expect?: RegExp } = {},
  ): Promise<SeenEvent> {
    const roomId = await this.ensureManagementRoom(user);
    const mark = user.mark();
    await user.sendText(roomId, text);
    return this.botReply(user, roomId, mark, opts.expect ?? /[\s\S]/, opts.timeoutMs ?? 30_000, text);
  }

  private async botReply(
    user: MatrixUser,
    roomId: string,
    mark: number,
    expect: RegExp,
    timeoutMs: number,
    describe: string,
  ): Promise<SeenEvent> {
    const failure = /^(Failed|Invalid|Unknown command|Usage:|You don't have|Login failed)/i;
    const reply = await user.waitForEvent(
      (e) =>
        e.roomId === roomId &&
        e.sender === this.botUserId &&
        e.type === "m.room.message" &&
        (expect.test(String(e.content.body ?? "")) || failure.test(String(e.content.body ?? ""))),
      {
        timeoutMs,
        since: mark,
        roomId,
        serverFallbackAfterMs: SYNC_FALLBACK_MS,
        describe: `the bridge bot's reply to "${redact(describe)}" matching ${expect}`,
      },
    );
    const body = String(reply.content.body ?? "");
    if (!expect.test(body)) throw new Error(redact(`The bridge bot answered "${describe}" with: ${body}`));
    return reply;
  }

  /**
   * `login app` in the management room: the bot asks for the bot token, then the app token
   * (mautrix-go v0.23 prompts "Please enter your Bot token" / "Please enter your App token"), then
   * confirms with "Successfully logged into <team> as <user>".
   */
  async loginApp(user: MatrixUser, tokens: LoginTokens, opts: { timeoutMs?: number } = {}): Promise<void> {
    registerSecret(tokens.botToken);
    registerSecret(tokens.appToken);
    const timeoutMs = opts.timeoutMs ?? 30_000;
    const roomId = await this.ensureManagementRoom(user, { timeoutMs });
    let mark = user.mark();
    await user.sendText(roomId, "login app");
    await this.botReply(user, roomId, mark, /Please enter your Bot token/i, timeoutMs, "login app");
    mark = user.mark();
    await user.sendText(roomId, tokens.botToken);
    await this.botReply(user, roomId, mark, /Please enter your App token/i, timeoutMs, "<bot token>");
    mark = user.mark();
    await user.sendText(roomId, tokens.appToken);
    await this.botReply(user, roomId, mark, /Successfully logged into/i, timeoutMs, "<app token>");
  }
}
