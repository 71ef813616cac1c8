// YAML steps for upgrades, rollbacks and config changes: specs (step-types.ts) + implementations.
// The runner calls `UPGRADE_STEPS[type].run(ctx, args)`; each returns a title and the details
// the report shows (prediction vs outcome, schema before/after, timings, exit code, FATAL lines).

import type { RecordedCall } from "../../fakes/slack/api.ts";
import type { StepTypeSpec } from "../config/steps.ts";
import type { MatrixUser, SeenEvent, StartedEnvironment } from "../environment/api.ts";
import { resolveImage } from "../environment/preflight.ts";
import type { StepContext } from "../scenario/steps.ts";
import { now } from "../util/clock.ts";
import { fetchWithTimeout } from "../util/net.ts";
import { checkNoDuplicates, portalRoomId } from "./checks.ts";
import {
  type BridgeSwapResult,
  changeBridgeConfig,
  describeSwap,
  revertBridgeConfig,
  rollbackBridge,
  type SwapOptions,
  snapshotDatabase,
  UpgradeAssertionError,
  upgradeBridge,
  upgradeHomeserver,
} from "./operations.ts";
import { formatSchemaState, readDbSchemaState } from "./predict.ts";
import { SECTION_NAMES, type SectionName } from "./schema.ts";
import { findRelease } from "./schema-versions.ts";
import { UPGRADE_STEP_TYPES } from "./step-types.ts";

/** What an upgrade step needs from the runner. */
export interface UpgradeStepContext {
  env: StartedEnvironment;
  /** This step's id (later steps refer to it with `since:`). */
  stepId: string;
  /** A scenario Matrix user by localpart (registered, syncing). */
  user(localpart: string): Promise<MatrixUser>;
  /** Default observer: the first of matrix.users. */
  defaultUser?: string;
  /** Whether a Matrix user logged into the bridge in this environment (unknown: assume yes). */
  loggedIn?(localpart: string): boolean;
  /** The step's `timeout:` in ms, if given. */
  timeoutMs?: number;
  /** Image map (upstream -> local), applied to `image:` fields. */
  resolveImage?(image: string): string;
}

export interface UpgradeStepOutput {
  /** Human description for the report. */
  title: string;
  details: Record<string, unknown>;
}

export interface UpgradeStepImpl {
  spec: StepTypeSpec;
  run(ctx: UpgradeStepContext, args: Record<string, any>): Promise<UpgradeStepOutput>;
}

/** Thrown when a step fails; `details` go into StepResult.details next to the error. */
export class UpgradeStepError extends Error {
  readonly details: Record<string, unknown>;
  constructor(message: string, details: Record<string, unknown>) {
    super(message);
    this.name = "UpgradeStepError";
    this.details = details;
  }
}

// Per environment: log-line marks of earlier steps (for expect.logs_since).
const marks = new WeakMap<StartedEnvironment, Map<string, number>>();
function setMark(env: StartedEnvironment, stepId: string, line: number): void {
  const m = marks.get(env) ?? new Map<string, number>();
  marks.set(env, m);
  m.set(stepId, line);
}

async function observer(ctx: UpgradeStepContext, name: string | undefined): Promise<MatrixUser | undefined> {
  const n = name ?? ctx.defaultUser;
  return n ? ctx.user(n) : undefined;
}

/** The user whose bridge login must be CONNECTED again: only one that logged in (when known). */
async function loginUser(ctx: UpgradeStepContext, name: string | undefined): Promise<MatrixUser | undefined> {
  const n = name ?? ctx.defaultUser;
  if (!n || (ctx.loggedIn && !ctx.loggedIn(n))) return undefined;
  return ctx.user(n);
}

function image(ctx: UpgradeStepContext, img: string): string {
  return ctx.resolveImage ? ctx.resolveImage(img) : resolveImage(img);
}

function swapDetails(r: BridgeSwapResult): Record<string, unknown> {
  return {
    from: r.fromImage,
    to: r.toImage,
    release: r.toRelease,
    outcome: r.outcome,
    prediction: r.prediction
      ? {
          accepted: r.prediction.accepted,
          reasons: r.prediction.reasons,
          expectedExitCode: r.prediction.expectedExitCode,
        }
      : { error: r.predictionError },
    predictionHeld: r.predictionHeld,
    schemaBefore: formatSchemaState(r.schemaBefore),
    schemaAfter: formatSchemaState(r.schemaAfter),
    schemaMismatches: r.schemaMismatches.length ? r.schemaMismatches : undefined,
    dataBefore: r.dataBefore,
    dataAfter: r.dataAfter,
    timings: r.timings,
    restoredSnapshot: r.restoredSnapshot,
    exitCode: r.exitCode,
    fatalLines: r.fatalLines,
    error: r.error,
  };
}

interface WhileDownMessage {
  user: string;
  channel: string;
  text: string;
}

async function runSwap(
  ctx: UpgradeStepContext,
  kind: "upgrade" | "rollback",
  args: Record<string, any>,
): Promise<UpgradeStepOutput> {
  const env = ctx.env;
  const user = await observer(ctx, args.user);
  const target = image(ctx, args.image);
  const whileDown: WhileDownMessage[] = args.while_down ?? [];
  const timeoutMs = ctx.timeoutMs ?? 180_000;
  const opts: SwapOptions = {
    user: await loginUser(ctx, args.user),
    expect: args.expect,
    restoreSnapshot: args.restore,
    checkPrediction: args.check_prediction,
    timeoutMs,
  };
  setMark(env, ctx.stepId, (await env.bridge.logLines()).length);

  // Messages posted while the bridge is down: stop it first, post (the fake keeps the envelopes and
  // redelivers them on the next connection), and arm the Matrix waiters before posting.
  const posted: { text: string; ts: string; postedAt: number }[] = [];
  const arrivals: Promise<SeenEvent>[] = [];
  const matrixDown: WhileDownMessage[] = args.matrix_while_down ?? [];
  const sent: { text: string; sentAt: number }[] = [];
  const calls: Promise<RecordedCall>[] = [];
  if (whileDown.length && !user)
    throw new Error("while_down needs a Matrix user to observe the messages (user: or matrix.users)");
  if (whileDown.length || matrixDown.length) {
    await env.bridge.stop();
    opts.stoppedAt = now();
  }
  // Matrix messages sent while the bridge is down: the homeserver queues the appservice
  // transaction and retries it; each must reach Slack (chat.postMessage) once the bridge is back.
  for (const m of matrixDown) {
    const control = env.fakeSlack.control;
    const channelId = env.fakeSlack.workspace.resolveChannel(m.channel);
    const roomId = await portalRoomId(env, channelId);
    if (!roomId) throw new Error(`no portal room for ${m.channel} to send "${m.text}" in`);
    const sinceSeq = control.calls().at(-1)?.seq ?? 0;
    const call = control.waitForCall(
      (c) =>
        c.method === "chat.postMessage" &&
        c.params.channel === channelId &&
        (c.params.blocks ?? c.params.text ?? "").includes(m.text),
      {
        sinceSeq,
        timeoutMs: timeoutMs + 120_000,
        describe: `"${m.text}" (sent on Matrix while the bridge was down) to reach Slack`,
      },
    );
    call.catch(() => undefined);
    calls.push(call);
    const r = await (await ctx.user(m.user)).sendText(roomId, m.text);
    sent.push({ text: m.text, sentAt: r.sentAt });
  }
  if (whileDown.length && user) {
    for (const m of whileDown) {
      const ws = env.fakeSlack.workspace;
      const channelId = ws.resolveChannel(m.channel);
      const roomId = await portalRoomId(env, channelId);
      const senderGhost = ws.resolveUser(m.user).toLowerCase();
      arrivals.push(
        user.waitForEvent(
          (e) =>
            e.type === "m.room.message" &&
            e.content.body === m.text &&
            (roomId === undefined || e.roomId === roomId) &&
            e.sender.toLowerCase().includes(senderGhost),
          {
            timeoutMs: timeoutMs + 60_000,
            describe: `"${m.text}" (posted while the bridge was down) in ${m.channel}`,
          },
        ),
      );
      // The waiters reject only after the swap, which may fail first: keep them from going unhandled.
      arrivals[arrivals.length - 1]!.catch(() => undefined);
      const t = now();
      const r = await env.fakeSlack.control.postMessage({
        user: ws.resolveUser(m.user),
        channel: channelId,
        text: m.text,
      });
      posted.push({ text: m.text, ts: r.ts, postedAt: t });
    }
  }

  let result: BridgeSwapResult;
  try {
    result =
      kind === "upgrade" ? await upgradeBridge(env, target, opts) : await rollbackBridge(env, target, opts);
  } catch (e) {
    if (e instanceof UpgradeAssertionError) {
      const r = e.result as BridgeSwapResult;
      throw new UpgradeStepError(e.message, swapDetails(r));
    }
    throw e;
  }
  const details = swapDetails(result);
  const maxSwap: number | undefined = args.max_swap;
  const swapMs = result.timings.connectedMs ?? result.timings.stateConnectedMs ?? result.timings.readyMs;
  if (maxSwap !== undefined && swapMs !== undefined && swapMs > maxSwap) {
    throw new UpgradeStepError(
      `swap took ${Math.round(swapMs)} ms, more than max_swap ${maxSwap} ms`,
      details,
    );
  }
  if (sent.length && result.outcome === "running") {
    try {
      const got = await Promise.all(calls);
      details.matrixWhileDown = sent.map((m, i) => ({
        text: m.text,
        arrivedAfterSendMs: Math.round(got[i]!.receivedAt - m.sentAt),
      }));
    } catch (e) {
      throw new UpgradeStepError(
        `a Matrix message sent while the bridge was down did not reach Slack: ${(e as Error).message}`,
        details,
      );
    }
  }
  if (posted.length && result.outcome === "running") {
    try {
      const seen = await Promise.all(arrivals);
      details.whileDown = posted.map((p, i) => ({
        text: p.text,
        ts: p.ts,
        arrivedAfterPostMs: Math.round(seen[i]!.seenAt - p.postedAt),
      }));
    } catch (e) {
      throw new UpgradeStepError(
        `a message posted while the bridge was down did not arrive: ${(e as Error).message}`,
        details,
      );
    }
  }
  return { title: describeSwap(result), details };
}

function levelPattern(level: string): RegExp {
  const abbr: Record<string, string> = {
    trace: "TRC",
    debug: "DBG",
    info: "INF",
    warn: "WRN",
    error: "ERR",
    fatal: "FTL",
  };
  return new RegExp(`(?:^|\\s)${abbr[level]}(?:\\s|$)|"level":"${level}"`);
}

async function managementRoom(env: StartedEnvironment, user: MatrixUser): Promise<string> {
  const known = env.bridge.managementRoom?.(user);
  if (known) return known;
  const rows = await env.postgres.query<{ management_room: string | null }>(
    "mautrix_slack",
    'SELECT management_room FROM "user" WHERE mxid = $1',
    [user.userId],
  );
  const existing = rows[0]?.management_room;
  if (existing) return existing;
  // No management room yet: open a DM with the bridge bot (it accepts DM invites).
  const res = await fetchWithTimeout(`${env.homeserver.baseUrl}/_matrix/client/v3/createRoom`, {
    method: "POST",
    headers: { authorization: `Bearer ${user.accessToken}`, "content-type": "application/json" },
    body: JSON.stringify({ invite: [env.bridge.botUserId], is_direct: true, preset: "trusted_private_chat" }),
  });
  if (!res.ok) throw new Error(`createRoom with the bridge bot: HTTP ${res.status}`);
  const { room_id: roomId } = (await res.json()) as { room_id: string };
  await user.waitForEvent(
    (e) => e.roomId === roomId && e.type === "m.room.member" && e.sender === env.bridge.botUserId,
    { timeoutMs: 30_000, describe: "the bridge bot joining the new DM" },
  );
  return roomId;
}

export const UPGRADE_STEPS: Record<string, UpgradeStepImpl> = {
  "db.snapshot": {
    spec: UPGRADE_STEP_TYPES["db.snapshot"]!,
    async run(ctx, args) {
      const user = await loginUser(ctx, args.user);
      const r = await snapshotDatabase(ctx.env, args.name, { user, timeoutMs: ctx.timeoutMs });
      return {
        title: `snapshot "${r.name}" of the bridge database (${formatSchemaState(r.schema)})`,
        details: {
          name: r.name,
          schema: formatSchemaState(r.schema),
          data: r.data,
          durationMs: r.durationMs,
          bridgeStoppedMs: r.bridgeStoppedMs,
        },
      };
    },
  },
  "bridge.upgrade": {
    spec: UPGRADE_STEP_TYPES["bridge.upgrade"]!,
    run: (ctx, args) => runSwap(ctx, "upgrade", args),
  },
  "bridge.rollback": {
    spec: UPGRADE_STEP_TYPES["bridge.rollback"]!,
    run: (ctx, args) => runSwap(ctx, "rollback", args),
  },
  "homeserver.upgrade": {
    spec: UPGRADE_STEP_TYPES["homeserver.upgrade"]!,
    async run(ctx, args) {
      const user = await loginUser(ctx, args.user);
      const r = await upgradeHomeserver(ctx.env, image(ctx, args.image), { user, timeoutMs: ctx.timeoutMs });
      return {
        title: `homeserver ${r.fromImage ?? "?"} -> ${r.toImage}: ready ${(r.timings.readyMs / 1000).toFixed(1)} s, bridge healthy ${((r.timings.bridgeReadyMs ?? 0) / 1000).toFixed(1)} s`,
        details: { ...r },
      };
    },
  },
  "config.change": {
    spec: UPGRADE_STEP_TYPES["config.change"]!,
    async run(ctx, args) {
      const user = await loginUser(ctx, args.user);
      const r = await changeBridgeConfig(ctx.env, args.bridge, {
        user: args.check_login === false ? undefined : user,
        timeoutMs: ctx.timeoutMs,
      });
      setMark(ctx.env, ctx.stepId, r.logLineMark);
      return {
        title: `bridge config changed (${JSON.stringify(args.bridge)}), back in ${(r.durationMs / 1000).toFixed(1)} s`,
        details: { overlays: r.overlays, durationMs: r.durationMs, configFile: r.configFile },
      };
    },
  },
  "config.revert": {
    spec: UPGRADE_STEP_TYPES["config.revert"]!,
    async run(ctx, args) {
      const user = await loginUser(ctx, args.user);
      const r = await revertBridgeConfig(ctx.env, {
        user: args.check_login === false ? undefined : user,
        timeoutMs: ctx.timeoutMs,
      });
      setMark(ctx.env, ctx.stepId, r.logLineMark);
      return {
        title: `bridge config reverted, back in ${(r.durationMs / 1000).toFixed(1)} s`,
        details: { durationMs: r.durationMs, configFile: r.configFile },
      };
    },
  },
  "expect.schema": {
    spec: UPGRADE_STEP_TYPES["expect.schema"]!,
    async run(ctx, args) {
      const state = await readDbSchemaState(ctx.env.postgres);
      const problems: string[] = [];
      if (args.release) {
        const rel = findRelease(args.release);
        for (const name of ["main", "state", "slack"] as SectionName[]) {
          const want = rel.sections[name]?.latest;
          if (want !== undefined && state[name]?.version !== want)
            problems.push(
              `${name}: expected v${want} (${rel.release}), found ${state[name] ? `v${state[name]!.version}` : "no row"}`,
            );
        }
      }
      for (const name of SECTION_NAMES) {
        const want = args[name] as { version?: number; compat?: number } | undefined;
        if (!want) continue;
        const got = state[name];
        if (want.version !== undefined && got?.version !== want.version)
          problems.push(`${name}: expected version ${want.version}, found ${got?.version ?? "no row"}`);
        if (want.compat !== undefined && got?.compat !== want.compat)
          problems.push(`${name}: expected compat ${want.compat}, found ${got?.compat ?? "no row"}`);
      }
      const details = { schema: formatSchemaState(state) };
      if (problems.length) throw new UpgradeStepError(problems.join("; "), details);
      return { title: `schema ${formatSchemaState(state)}`, details };
    },
  },
  "expect.no_duplicates": {
    spec: UPGRADE_STEP_TYPES["expect.no_duplicates"]!,
    async run(ctx, args) {
      const user = await observer(ctx, args.user);
      if (!user) throw new Error("expect.no_duplicates needs a Matrix user (user: or matrix.users)");
      const r = await checkNoDuplicates(ctx.env, user, args.channel);
      const details = { ...r };
      const bad = [
        ...Object.entries(r.slackToMatrix).map(([t, n]) => `Slack "${t}" seen ${n} times on Matrix`),
        ...Object.entries(r.matrixToSlack).map(([t, n]) => `Matrix "${t}" posted ${n} times to Slack`),
      ];
      if (bad.length) throw new UpgradeStepError(bad.join("; "), details);
      return {
        title: `${args.channel}: ${r.checkedSlackMessages} Slack and ${r.checkedMatrixMessages} Matrix messages, each bridged exactly once`,
        details,
      };
    },
  },
  "expect.logs_since": {
    spec: UPGRADE_STEP_TYPES["expect.logs_since"]!,
    async run(ctx, args) {
      const mark = marks.get(ctx.env)?.get(args.since);
      if (mark === undefined)
        throw new Error(
          `no log mark for step "${args.since}" (it must be an earlier upgrade or config step)`,
        );
      // Lines the old container wrote before it stopped belong to the old config: start at the
      // harness's "starting <image>" note of the container started by that step.
      let lines = (await ctx.env.bridge.logLines()).slice(mark);
      const started = lines.findIndex((l) => l.startsWith("[bridge-harness] starting "));
      if (started >= 0) lines = lines.slice(started);
      const problems: string[] = [];
      const counts: Record<string, number> = {};
      for (const lvl of ["trace", "debug", "info", "warn", "error", "fatal"]) {
        counts[lvl] = lines.filter((l) => levelPattern(lvl).test(l)).length;
      }
      for (const lvl of args.levels_present ?? [])
        if (!counts[lvl]) problems.push(`no ${lvl} line since ${args.since}`);
      for (const lvl of args.levels_absent ?? []) {
        if (counts[lvl]) {
          const first = lines.find((l) => levelPattern(lvl).test(l));
          problems.push(`${counts[lvl]} ${lvl} line(s) since ${args.since}, e.g. ${first?.slice(0, 200)}`);
        }
      }
      for (const s of args.present ?? [])
        if (!lines.some((l) => l.includes(s))) problems.push(`"${s}" not logged since ${args.since}`);
      for (const s of args.absent ?? [])
        if (lines.some((l) => l.includes(s))) problems.push(`"${s}" logged since ${args.since}`);
      const details = { since: args.since, lines: lines.length, levels: counts };
      if (problems.length) throw new UpgradeStepError(problems.join("; "), details);
      return {
        title: `${lines.length} bridge log lines since ${args.since}: ${JSON.stringify(counts)}`,
        details,
      };
    },
  },
  "expect.command": {
    spec: UPGRADE_STEP_TYPES["expect.command"]!,
    async run(ctx, args) {
      const user = await ctx.user(args.user);
      const env = ctx.env;
      const roomId = await managementRoom(env, user);
      const reply = user.waitForEvent(
        (e) =>
          e.roomId === roomId &&
          e.sender === env.bridge.botUserId &&
          e.type === "m.room.message" &&
          e.content["m.relates_to"]?.rel_type !== "m.replace",
        { timeoutMs: ctx.timeoutMs ?? 30_000, describe: `the bridge bot's reply to "${args.command}"` },
      );
      const sent = await user.sendText(roomId, args.command);
      // The waiter was armed before the send: only bot messages after it count.
      const got = await reply;
      const body = String(got.content.body ?? "");
      const problems: string[] = [];
      for (const s of args.reply_contains ?? []) if (!body.includes(s)) problems.push(`reply lacks "${s}"`);
      for (const s of args.reply_lacks ?? []) if (body.includes(s)) problems.push(`reply contains "${s}"`);
      const details = { command: args.command, reply: body, replyMs: Math.round(got.seenAt - sent.sentAt) };
      if (problems.length)
        throw new UpgradeStepError(`${problems.join("; ")} (reply: ${body.slice(0, 200)})`, details);
      return { title: `"${args.command}" -> "${body.split("\n")[0]!.slice(0, 80)}"`, details };
    },
  },
};

/** Swaps and restarts need more than the 30 s default step timeout. */
const MIN_SWAP_TIMEOUT_MS = 180_000;
const SLOW_STEPS = new Set([
  "db.snapshot",
  "bridge.upgrade",
  "bridge.rollback",
  "homeserver.upgrade",
  "config.change",
  "config.revert",
]);

/**
 * The same steps in the scenario runner's shape (src/scenario/steps.ts IMPLEMENTATIONS): register
 * with `...UPGRADE_IMPLEMENTATIONS`. A one-line summary goes to details.summary; on failure the
 * details (prediction, outcome, exit code, FATAL lines, schema) are kept next to the error.
 */
export const UPGRADE_IMPLEMENTATIONS: Record<string, (ctx: StepContext, args: any) => Promise<void>> =
  Object.fromEntries(
    Object.entries(UPGRADE_STEPS).map(([type, impl]) => [
      type,
      async (ctx: StepContext, args: Record<string, any>) => {
        const state = ctx.state;
        const uctx: UpgradeStepContext = {
          env: state.env,
          stepId: ctx.stepId,
          user: (localpart) => state.user(localpart),
          defaultUser: state.matrixUsers[0] ?? state.session.loggedIn[0],
          loggedIn: (localpart) => state.session.loggedIn.includes(localpart),
          timeoutMs: SLOW_STEPS.has(type) ? Math.max(ctx.timeoutMs, MIN_SWAP_TIMEOUT_MS) : ctx.timeoutMs,
        };
        try {
          const out = await impl.run(uctx, args);
          Object.assign(ctx.details, { summary: out.title }, out.details);
        } catch (e) {
          if (e instanceof UpgradeStepError) Object.assign(ctx.details, e.details);
          throw e;
        }
      },
    ]),
  );
