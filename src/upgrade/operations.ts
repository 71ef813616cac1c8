// Upgrade, rollback and config-change operations on a running environment. Each returns what the
// report shows: timings (stop old -> new ready -> new connected to Slack), the schema before and
// after, the prediction next to the outcome, and for a bridge that refused to start its exit code
// and FATAL lines. The YAML steps in steps.ts are thin wrappers around these.
import type { BridgeStartFailure, MatrixUser, StartedEnvironment } from "../environment/api.ts";
import { now, waitUntil } from "../util/clock.ts";
import { redact } from "../util/redact.ts";
import { formatSchemaState, predictRollback, readDbSchemaState, type StartPrediction } from "./predict.ts";
import { type DbSchemaState, SECTION_NAMES } from "./schema.ts";
import { releaseOfImage } from "./schema-versions.ts";

export const BRIDGE_DATABASE = "mautrix_slack";

export type ExpectedOutcome = "running" | "refused";

export interface CommonOptions {
  /** Logged-in Matrix user whose bridge login must be CONNECTED again (also checks the Slack socket). */
  user?: MatrixUser;
  /** Wait for a new Socket Mode connection (default: when the fake has ever seen one). */
  waitForSlack?: boolean;
  /** Deadline for ready + connected after the swap (default 120 s). */
  timeoutMs?: number;
}

export interface SwapTimings {
  /** Stop of the old container -> new container ready (live + ready endpoints), ms. */
  readyMs?: number;
  /** Stop of the old container -> new Socket Mode connection open at the fake Slack, ms. */
  connectedMs?: number;
  /** Stop of the old container -> login state CONNECTED through the provisioning API, ms. */
  stateConnectedMs?: number;
  /** Time spent restoring a snapshot, ms (rollback with restore). */
  restoreMs?: number;
}

export interface BridgeData {
  portals: number;
  ghosts: number;
  messages: number;
  reactions: number;
  logins: number;
}

export interface BridgeSwapResult {
  kind: "upgrade" | "rollback" | "restart";
  fromImage: string;
  toImage: string;
  toRelease?: string;
  outcome: ExpectedOutcome;
  /** Whether the prediction matched the outcome (undefined when no prediction could be made). */
  predictionHeld?: boolean;
  prediction?: StartPrediction;
  predictionError?: string;
  schemaBefore: DbSchemaState;
  schemaAfter: DbSchemaState;
  /** Sections whose version row differs from what the prediction expected after a start. */
  schemaMismatches: string[];
  dataBefore?: BridgeData;
  dataAfter?: BridgeData;
  timings: SwapTimings;
  restoredSnapshot?: string;
  /** When refused: the container's exit code and the bridge's FATAL (+ explanation) lines. */
  exitCode?: number;
  fatalLines?: string[];
  error?: string;
}

/** Reads counts of the bridge's main tables; undefined when the schema does not exist yet. */
export async function bridgeData(env: StartedEnvironment): Promise<BridgeData | undefined> {
  try {
    const [row] = await env.postgres.query<Record<keyof BridgeData, string>>(
      BRIDGE_DATABASE,
      `SELECT
         (SELECT count(*) FROM portal WHERE mxid IS NOT NULL AND room_type <> 'space') AS portals,
         (SELECT count(*) FROM ghost) AS ghosts,
         (SELECT count(*) FROM message) AS messages,
         (SELECT count(*) FROM reaction) AS reactions,
         (SELECT count(*) FROM user_login) AS logins`,
    );
    if (!row) return undefined;
    return {
      portals: Number(row.portals),
      ghosts: Number(row.ghosts),
      messages: Number(row.messages),
      reactions: Number(row.reactions),
      logins: Number(row.logins),
    };
  } catch {
    return undefined;
  }
}

const ANSI = /\x1b\[[0-9;]*m/g;

/**
 * The bridge's own explanation of a failed start in `lines`: FATAL lines ("FTL" in the pretty
 * format, "level":"fatal" in JSON) and the INFO hints that follow them ("Downgrading the bridge is
 * not supported", ...).
 */
export function fatalLinesOf(lines: string[]): string[] {
  const out: string[] = [];
  for (const raw of lines) {
    const line = raw.replace(ANSI, "");
    if (
      /\bFTL\b|"level":"fatal"|\bPNC\b|"level":"panic"/.test(line) ||
      /Downgrading the bridge is not supported|Sharing the same database|docs\.mau\.fi\/faq\/foreign-tables/.test(
        line,
      )
    ) {
      out.push(redact(line.trim()));
    }
  }
  return out;
}

/** Exit code from a start failure, or parsed from its message ("exit code 15", "exited with 15"). */
function exitCodeOf(err: unknown): number | undefined {
  const e = err as Partial<BridgeStartFailure> | undefined;
  if (typeof e?.exitCode === "number") return e.exitCode;
  const m = /exit(?:ed)?(?: with)?(?: code)?[ =:]+(\d+)/i.exec(String((err as Error)?.message ?? err));
  return m ? Number(m[1]) : undefined;
}

function hasEverConnected(env: StartedEnvironment): boolean {
  return env.fakeSlack.control.connections().length > 0;
}

/**
 * Waits until the bridge is back: a Socket Mode connection opened after `mark` (when `slack`), and
 * the user's login reported CONNECTED (when `user`). Returns timings relative to `mark`.
 */
export async function waitBridgeConnected(
  env: StartedEnvironment,
  mark: number,
  opts: { slack: boolean; user?: MatrixUser; timeoutMs: number },
): Promise<Pick<SwapTimings, "connectedMs" | "stateConnectedMs">> {
  const out: Pick<SwapTimings, "connectedMs" | "stateConnectedMs"> = {};
  const waits: Promise<void>[] = [];
  if (opts.slack) {
    waits.push(
      waitUntil(
        () => env.fakeSlack.control.connections().find((c) => c.openedAt > mark && c.closedAt === undefined),
        {
          timeoutMs: opts.timeoutMs,
          intervalMs: 20,
          describe: () =>
            `a new Socket Mode connection from the bridge (connections: ${JSON.stringify(
              env.fakeSlack.control
                .connections()
                .map((c) => ({ opened: c.openedAt > mark, closed: !!c.closedAt })),
            )})`,
        },
      ).then((c) => {
        out.connectedMs = c.openedAt - mark;
      }),
    );
  }
  if (opts.user) {
    const user = opts.user;
    let last: string | undefined;
    waits.push(
      waitUntil(
        async () => {
          try {
            last = (await env.bridge.health(user)).state;
          } catch (e) {
            last = `error: ${(e as Error).message}`;
          }
          return last === "CONNECTED" ? now() : undefined;
        },
        {
          timeoutMs: opts.timeoutMs,
          intervalMs: 250,
          describe: () => `login state CONNECTED (last: ${last ?? "none"})`,
        },
      ).then((t) => {
        out.stateConnectedMs = t - mark;
      }),
    );
  }
  await Promise.all(waits);
  return out;
}

function comparePredictedSchema(prediction: StartPrediction | undefined, after: DbSchemaState): string[] {
  if (!prediction?.accepted) return [];
  const out: string[] = [];
  for (const name of SECTION_NAMES) {
    const want = prediction.expectedAfter[name];
    const got = after[name];
    if (!want) continue;
    if (!got || got.version !== want.version || got.compat !== want.compat) {
      out.push(
        `${name}: expected v${want.version}/${want.compat}, found ${got ? `v${got.version}/${got.compat}` : "no row"}`,
      );
    }
  }
  return out;
}

export interface SwapOptions extends CommonOptions {
  /** Assert the outcome: the bridge keeps running, or refuses to start (exit 15 ...). */
  expect?: ExpectedOutcome;
  /** Restore this snapshot (taken by snapshotDatabase) before starting the target. */
  restoreSnapshot?: string;
  /** Fail when the prediction differs from the outcome (default true). */
  checkPrediction?: boolean;
  /** now() when the caller already stopped the old bridge (timings then start there). */
  stoppedAt?: number;
}

/** Thrown by the operations when an assertion fails; carries the result for the report. */
export class UpgradeAssertionError extends Error {
  readonly result: unknown;
  constructor(message: string, result: unknown) {
    super(message);
    this.name = "UpgradeAssertionError";
    this.result = result;
  }
}

async function swapBridge(
  env: StartedEnvironment,
  kind: BridgeSwapResult["kind"],
  image: string,
  opts: SwapOptions,
): Promise<BridgeSwapResult> {
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const slack = opts.waitForSlack ?? hasEverConnected(env);
  const fromImage = env.bridge.image;
  const schemaBefore = await readDbSchemaState(env.postgres, BRIDGE_DATABASE);
  const dataBefore = await bridgeData(env);
  const result: BridgeSwapResult = {
    kind,
    fromImage,
    toImage: image,
    toRelease: releaseOfImage(image),
    outcome: "running",
    schemaBefore,
    schemaAfter: {},
    schemaMismatches: [],
    dataBefore,
    timings: {},
  };
  const logLinesBefore = (await env.bridge.logLines()).length;
  const mark = opts.stoppedAt ?? now();
  let failure: unknown;
  try {
    if (opts.restoreSnapshot) {
      await env.bridge.stop();
      const r0 = now();
      await env.postgres.restore(opts.restoreSnapshot);
      result.timings.restoreMs = now() - r0;
      result.restoredSnapshot = opts.restoreSnapshot;
    }
    // The prediction is made on the database the target will actually see (after any restore).
    const seen = opts.restoreSnapshot ? await readDbSchemaState(env.postgres, BRIDGE_DATABASE) : schemaBefore;
    if (opts.restoreSnapshot) result.schemaBefore = seen;
    try {
      result.prediction = predictRollback(seen, image);
    } catch (e) {
      result.predictionError = (e as Error).message;
    }
    await env.bridge.swapImage(image);
    result.timings.readyMs = now() - mark;
  } catch (e) {
    failure = e;
  }
  if (failure === undefined) {
    try {
      Object.assign(
        result.timings,
        await waitBridgeConnected(env, mark, { slack, user: opts.user, timeoutMs }),
      );
    } catch (e) {
      failure = e;
    }
  }
  if (failure !== undefined) {
    const lines = (await env.bridge.logLines().catch(() => [] as string[])).slice(logLinesBefore);
    const fatal = (failure as Partial<BridgeStartFailure>).fatalLines ?? fatalLinesOf(lines);
    result.exitCode = exitCodeOf(failure);
    result.fatalLines = fatal.length ? fatal : fatalLinesOf(lines);
    result.error = redact(String((failure as Error)?.message ?? failure));
    // Refused = the bridge exited (an exit code or a FATAL line); anything else is a plain failure.
    result.outcome = result.exitCode !== undefined || result.fatalLines.length > 0 ? "refused" : "running";
  }
  result.schemaAfter = await readDbSchemaState(env.postgres, BRIDGE_DATABASE).catch(() => ({}));
  result.dataAfter = await bridgeData(env);
  if (result.prediction) {
    result.predictionHeld = result.prediction.accepted === (result.outcome === "running");
    if (result.outcome === "running")
      result.schemaMismatches = comparePredictedSchema(result.prediction, result.schemaAfter);
  }

  const problems: string[] = [];
  const expected = opts.expect ?? "running";
  if (result.outcome !== expected) {
    problems.push(
      expected === "running"
        ? `bridge ${image} refused to start (exit ${result.exitCode ?? "?"}): ${result.fatalLines?.join(" | ") || result.error}`
        : `bridge ${image} started although it was expected to refuse`,
    );
  } else if (failure !== undefined && expected === "running") {
    problems.push(`bridge ${image} did not come back: ${result.error}`);
  }
  if ((opts.checkPrediction ?? true) && result.predictionHeld === false) {
    problems.push(
      `prediction failed: predicted ${result.prediction!.accepted ? "accepted" : "refused"}, bridge ${result.outcome} ` +
        `(${result.prediction!.reasons[0]})`,
    );
  }
  if ((opts.checkPrediction ?? true) && result.schemaMismatches.length) {
    problems.push(`schema after start differs from the prediction: ${result.schemaMismatches.join("; ")}`);
  }
  if (problems.length) throw new UpgradeAssertionError(problems.join("\n"), result);
  return result;
}

/** Replaces the bridge with a newer image (keeping config, registration and database). */
export function upgradeBridge(
  env: StartedEnvironment,
  image: string,
  opts: SwapOptions = {},
): Promise<BridgeSwapResult> {
  return swapBridge(env, "upgrade", image, opts);
}

/** Replaces the bridge with an older image, optionally restoring a snapshot of the database first. */
export function rollbackBridge(
  env: StartedEnvironment,
  image: string,
  opts: SwapOptions = {},
): Promise<BridgeSwapResult> {
  return swapBridge(env, "rollback", image, opts);
}

export interface SnapshotResult {
  name: string;
  schema: DbSchemaState;
  data?: BridgeData;
  /** The bridge was stopped for the copy (PostgreSQL refuses to copy a database in use). */
  bridgeStoppedMs?: number;
  durationMs: number;
}

/**
 * Snapshots the bridge database under `name`. PostgreSQL copies a database only while nobody is
 * connected, so a running bridge is stopped for the copy and started again (then waited for).
 */
export async function snapshotDatabase(
  env: StartedEnvironment,
  name: string,
  opts: CommonOptions & { bridgeRunning?: boolean } = {},
): Promise<SnapshotResult> {
  const t0 = now();
  const schema = await readDbSchemaState(env.postgres, BRIDGE_DATABASE);
  const data = await bridgeData(env);
  // StartedMautrixSlack exposes `running`; other implementations are assumed to be running.
  const running = opts.bridgeRunning ?? (env.bridge as { running?: boolean }).running ?? true;
  if (!running) {
    await env.postgres.snapshot(name);
    return { name, schema, data, durationMs: now() - t0 };
  }
  const slack = opts.waitForSlack ?? hasEverConnected(env);
  await env.bridge.stop();
  const stoppedAt = now();
  await env.postgres.snapshot(name);
  await env.bridge.start();
  await waitBridgeConnected(env, stoppedAt, { slack, user: opts.user, timeoutMs: opts.timeoutMs ?? 120_000 });
  return { name, schema, data, bridgeStoppedMs: now() - stoppedAt, durationMs: now() - t0 };
}

export interface HomeserverUpgradeResult {
  fromImage?: string;
  toImage: string;
  /** The homeserver's state version before and after (Synapse: "schema 93"; conduwuit family: "RocksDB 17"). */
  stateBefore?: string;
  stateAfter?: string;
  /** The version the server reports before and after ("Synapse 1.163.2"). */
  versionBefore?: string;
  versionAfter?: string;
  /** From the stop of the old homeserver: new one healthy (readyMs), bridge live + ready + CONNECTED again. */
  timings: { readyMs: number; bridgeReadyMs?: number };
}

/**
 * Replaces the homeserver with another image while the bridge keeps running, then waits until the
 * bridge is healthy again (live + ready, login CONNECTED).
 */
export async function upgradeHomeserver(
  env: StartedEnvironment,
  image: string,
  opts: CommonOptions = {},
): Promise<HomeserverUpgradeResult> {
  const timeoutMs = opts.timeoutMs ?? 180_000;
  const fromImage = env.homeserver.image;
  const stateBefore = await env.homeserver.stateVersion();
  const versionBefore = await env.homeserver.version().catch(() => undefined);
  const mark = now();
  await env.homeserver.swapImage(image);
  const readyMs = now() - mark;
  let lastHealth = "";
  await waitUntil(
    async () => {
      try {
        const h = await env.bridge.health(opts.user);
        lastHealth = JSON.stringify(h);
        return h.live && h.ready && (!opts.user || h.state === "CONNECTED");
      } catch (e) {
        lastHealth = (e as Error).message;
        return false;
      }
    },
    {
      timeoutMs,
      intervalMs: 200,
      describe: () => `bridge healthy after the homeserver swap (last: ${lastHealth})`,
    },
  );
  const bridgeReadyMs = now() - mark;
  return {
    fromImage,
    toImage: image,
    stateBefore,
    stateAfter: await env.homeserver.stateVersion(),
    versionBefore,
    versionAfter: await env.homeserver.version().catch(() => undefined),
    timings: { readyMs, bridgeReadyMs },
  };
}

export interface ConfigChangeResult {
  overlays: Record<string, unknown>[];
  durationMs: number;
  /** Log lines the bridge wrote before the change (used to compare before/after). */
  logLineMark: number;
  configFile?: string;
}

const appliedOverlays = new WeakMap<StartedEnvironment, Record<string, unknown>[]>();

/** Applies a config overlay over the environment's bridge config and restarts the bridge. Stacks. */
export async function changeBridgeConfig(
  env: StartedEnvironment,
  overlay: Record<string, unknown>,
  opts: CommonOptions = {},
): Promise<ConfigChangeResult> {
  const list = [...(appliedOverlays.get(env) ?? []), overlay];
  const r = await reconfigure(env, list, opts);
  appliedOverlays.set(env, list);
  return r;
}

/** Returns to the environment's own bridge config (drops every overlay applied by changeBridgeConfig). */
export async function revertBridgeConfig(
  env: StartedEnvironment,
  opts: CommonOptions = {},
): Promise<ConfigChangeResult> {
  const r = await reconfigure(env, [], opts);
  appliedOverlays.set(env, []);
  return r;
}

async function reconfigure(
  env: StartedEnvironment,
  overlays: Record<string, unknown>[],
  opts: CommonOptions,
): Promise<ConfigChangeResult> {
  const fn = env.bridge.reconfigure;
  if (!fn)
    throw new Error(
      "this environment cannot reconfigure the bridge (StartedBridge.reconfigure is not implemented)",
    );
  const slack = opts.waitForSlack ?? hasEverConnected(env);
  const logLineMark = (await env.bridge.logLines()).length;
  const mark = now();
  const r = await fn.call(env.bridge, overlays);
  await waitBridgeConnected(env, mark, { slack, user: opts.user, timeoutMs: opts.timeoutMs ?? 120_000 });
  return { overlays, durationMs: now() - mark, logLineMark, configFile: r.configFile };
}

/** One-line summary of a swap for step titles and logs. */
export function describeSwap(r: BridgeSwapResult): string {
  const t = r.timings;
  const time =
    r.outcome === "running"
      ? `ready ${fmt(t.readyMs)}, connected ${fmt(t.connectedMs ?? t.stateConnectedMs)}`
      : `exit ${r.exitCode ?? "?"}`;
  return `${r.kind} ${r.fromImage} -> ${r.toImage}: ${r.outcome} (${time}); schema ${formatSchemaState(
    r.schemaBefore,
  )} -> ${formatSchemaState(r.schemaAfter)}`;
}

function fmt(ms: number | undefined): string {
  return ms === undefined ? "-" : `${(ms / 1000).toFixed(2)} s`;
}
