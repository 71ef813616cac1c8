// Step implementations and the typed step builders (`steps.slackPost({...})`). YAML steps map onto
// the same functions: the YAML key is the step type, its fields are the builder's arguments.
// Every observation is armed before the action it observes.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describeAuthStep } from "../auth/step-types.ts";
import { AUTH_IMPLEMENTATIONS } from "../auth/steps.ts";
import { CHECK_IMPLEMENTATIONS, checkTitle } from "../check/step.ts";
import type { CountSpec } from "../config/fields.ts";
import { DEFAULT_TIMEOUT_MS, type ExpectedFailureMark } from "../config/scenario.ts";
import { LOG_SERVICES } from "../config/steps.ts";
import { parseDuration, parseSize } from "../config/units.ts";
import type { MatrixUser, SeenEvent } from "../environment/api.ts";
import { describeFaultStep } from "../faults/step-types.ts";
import { FAULT_IMPLEMENTATIONS } from "../faults/steps.ts";
import { describePortalStep } from "../portals/step-types.ts";
import {
  type ArchiveArgs,
  type CreateChannelArgs,
  type DeactivateArgs,
  type ExpectPortalArgs,
  type ExpectSlackCallArgs,
  type MatrixKickArgs,
  type MatrixLeaveArgs,
  type MembershipArgs,
  type OpenDmArgs,
  PORTAL_IMPLEMENTATIONS,
  postCreatingPortal,
  postNotBridged,
  type RenameChannelArgs,
  type SetPurposeArgs,
  type SetRoomNameArgs,
  type SetRoomTopicArgs,
  type SetTopicArgs,
  type StartDmArgs,
  type UnfurlArgs,
  type UpdateProfileArgs,
} from "../portals/steps.ts";
import type { Direction, StepResult } from "../report/model.ts";
import { describeUpgradeStep } from "../upgrade/step-types.ts";
import { UPGRADE_IMPLEMENTATIONS } from "../upgrade/steps.ts";
import { now, waitUntil } from "../util/clock.ts";
import {
  checkCount,
  describeCount,
  deterministicBytes,
  flattenSlackMessage,
  generatePng,
  type Level,
  levelAbove,
  lineLevel,
  lineMatcher,
  mimetypeFor,
  parseJsonSafe,
  plainFromBlocks,
  plainFromHtml,
  plainMatches,
  reactionKey,
  sameEmoji,
  sha256,
  slackNamesFor,
  unescapeMrkdwn,
  unicodeForShortcode,
} from "./content.ts";
import { armed, checkSlackCall, fail, observed, waitCall } from "./observe.ts";
import type { ScenarioState } from "./state.ts";

// ---------------------------------------------------------------- argument types (mirror the YAML)

type Duration = number | string;
type Size = number | string;
type Count = number | CountSpec;

export interface LoginArgs {
  user: string;
  via?: "chat" | "provisioning";
  app?: string;
}
export interface SlackPostArgs {
  /** A Slack user, or an integration seeded under bots: (posts as bot_message). */
  user: string;
  channel: string;
  /** Exactly one of text (Slack mrkdwn), typed (what a person types), blocks (rich_text, verbatim). */
  text?: string;
  typed?: string;
  blocks?: unknown[];
  thread?: string;
  observer?: string;
  /** The conversation has no portal yet: this first message must create it. */
  new_portal?: boolean;
  /** false: the message must not reach the observer within `window`. */
  bridged?: boolean;
  window?: number | string;
  expect?: {
    body?: string;
    contains?: string[];
    html?: string[];
    no_html?: string[];
    mentions?: string[];
    room_mention?: boolean;
  };
}
export interface TrafficArgs {
  user: string;
  channel: string;
  count: number;
  per_second?: number;
  /** slack.traffic only. */
  observer?: string;
}
export interface MatrixSendArgs {
  user: string;
  channel: string;
  text: string;
  html?: string;
  thread?: string;
  expect?: {
    text?: string;
    contains?: string[];
    styles?: ("bold" | "italic" | "code" | "strike")[];
    links?: string[];
    mentions?: string[];
  };
}
export interface SlackReactArgs {
  user: string;
  message: string;
  emoji: string;
  observer?: string;
}
export interface MatrixReactArgs {
  user: string;
  message: string;
  emoji: string;
  slack_name?: string;
}
export interface SlackEditArgs {
  user: string;
  message: string;
  text: string;
  observer?: string;
}
export interface MatrixEditArgs {
  user: string;
  message: string;
  text: string;
}
export interface SlackDeleteArgs {
  user: string;
  message: string;
  observer?: string;
}
export interface MatrixRedactArgs {
  user: string;
  message: string;
}
export interface FileArgs {
  name: string;
  mimetype?: string;
  size?: Size;
  path?: string;
}
export interface SlackUploadArgs {
  user: string;
  channel: string;
  file: FileArgs;
  thread?: string;
  observer?: string;
  comment?: string;
}
export interface MatrixUploadArgs {
  user: string;
  channel: string;
  file: FileArgs;
  thread?: string;
}
export interface RestartArgs {
  service: "bridge" | "homeserver";
}
export interface WaitHealthyArgs {
  user?: string;
}
export interface ExpectHealthArgs {
  user?: string;
  state?: string;
  last_message_within?: Duration;
  max_errors?: number;
}
export interface ExpectLogsArgs {
  service?: "bridge" | "homeserver" | "postgres";
  present?: string[];
  absent?: string[];
  max_level?: Level;
  since?: "scenario" | "start";
}
export interface ExpectDbArgs {
  portals?: Count;
  ghosts?: Count;
  messages?: Count;
  query?: { sql: string; database?: "mautrix_slack" | "synapse"; equals: Count };
}

export interface StepOptions {
  id?: string;
  /** Latency budget ("5s", or ms). */
  budget?: Duration;
  /** How long to wait for the outcome ("30s", or ms). */
  timeout?: Duration;
}

/** One step, as the runner executes it (from YAML or from the builders). */
export interface Step {
  type: string;
  args: Record<string, any>;
  id?: string;
  budget?: Duration;
  timeout?: Duration;
  /** A known upstream problem makes this step fail (see applyExpectedFailure in runner.ts). */
  expectedFailure?: ExpectedFailureMark;
}

const make =
  <A>(type: string) =>
  (args: A, opts: StepOptions = {}): Step => ({ type, args: args as Record<string, any>, ...opts });

/** Typed builders: `await scenario.run(steps.slackPost({ user: "bob", channel: "#dev-platform", text: "hi" }))`. */
export const steps = {
  login: make<LoginArgs>("login"),
  expectPortal: make<ExpectPortalArgs>("expect.portal"),
  slackPost: make<SlackPostArgs>("slack.post"),
  matrixSend: make<MatrixSendArgs>("matrix.send"),
  slackReact: make<SlackReactArgs>("slack.react"),
  slackAddEmoji: make<{ name: string; alias?: string }>("slack.add_emoji"),
  slackUnreact: make<SlackReactArgs>("slack.unreact"),
  matrixReact: make<MatrixReactArgs>("matrix.react"),
  matrixUnreact: make<MatrixReactArgs>("matrix.unreact"),
  slackEdit: make<SlackEditArgs>("slack.edit"),
  matrixEdit: make<MatrixEditArgs>("matrix.edit"),
  slackDelete: make<SlackDeleteArgs>("slack.delete"),
  matrixRedact: make<MatrixRedactArgs>("matrix.redact"),
  slackUpload: make<SlackUploadArgs>("slack.upload"),
  matrixUpload: make<MatrixUploadArgs>("matrix.upload"),
  slackTraffic: make<TrafficArgs>("slack.traffic"),
  matrixTraffic: make<TrafficArgs>("matrix.traffic"),
  restart: make<RestartArgs>("restart"),
  waitHealthy: (args: WaitHealthyArgs = {}, opts: StepOptions = {}): Step => ({
    type: "wait.healthy",
    args,
    ...opts,
  }),
  expectHealth: make<ExpectHealthArgs>("expect.health"),
  expectLogs: make<ExpectLogsArgs>("expect.logs"),
  expectDb: make<ExpectDbArgs>("expect.db"),
  // portal lifecycle (src/portals)
  slackCreateChannel: make<CreateChannelArgs>("slack.create_channel"),
  slackRenameChannel: make<RenameChannelArgs>("slack.rename_channel"),
  slackSetTopic: make<SetTopicArgs>("slack.set_topic"),
  slackSetPurpose: make<SetPurposeArgs>("slack.set_purpose"),
  slackUnfurl: make<UnfurlArgs>("slack.unfurl"),
  slackArchiveChannel: make<ArchiveArgs>("slack.archive_channel"),
  slackUnarchiveChannel: make<ArchiveArgs>("slack.unarchive_channel"),
  slackJoin: make<MembershipArgs>("slack.join"),
  slackLeave: make<MembershipArgs>("slack.leave"),
  slackInvite: make<MembershipArgs>("slack.invite"),
  slackKick: make<MembershipArgs>("slack.kick"),
  slackUpdateProfile: make<UpdateProfileArgs>("slack.update_profile"),
  slackDeactivateUser: make<DeactivateArgs>("slack.deactivate_user"),
  slackOpenDm: make<OpenDmArgs>("slack.open_dm"),
  matrixStartDm: make<StartDmArgs>("matrix.start_dm"),
  matrixSetRoomName: make<SetRoomNameArgs>("matrix.set_room_name"),
  matrixSetTopic: make<SetRoomTopicArgs>("matrix.set_topic"),
  matrixLeave: make<MatrixLeaveArgs>("matrix.leave"),
  matrixKick: make<MatrixKickArgs>("matrix.kick"),
  expectSlackCall: make<ExpectSlackCallArgs>("expect.slack_call"),
};

// ---------------------------------------------------------------- execution context

export interface StepContext {
  state: ScenarioState;
  stepId: string;
  stepType: string;
  /** The step's one-line description (describeStep). */
  title: string;
  timeoutMs: number;
  budgetMs(direction: Direction): number;
  /**
   * Records a latency sample. `observedAt` is when this step saw the outcome and `matchedAt` when the
   * observed side recorded it (the fake's call record, after its own handling), for overhead figures;
   * a step that collects outcomes in bulk (traffic) passes neither and adds no overhead figure.
   */
  sample(
    direction: Direction,
    kind: string,
    startAt: number,
    endAt: number,
    observedAt?: number,
    matchedAt?: number,
  ): void;
  details: Record<string, unknown>;
  /**
   * Runs another step of the table inside this one (e.g. traffic alongside a fault); it may be left
   * running while this step goes on. Its latency samples become this step's too; whether its
   * failure fails this step is the caller's choice.
   */
  nested(step: Step): Promise<StepResult>;
}

type Impl = (ctx: StepContext, args: any) => Promise<void>;

const q = (s: string) => JSON.stringify(s.length > 60 ? `${s.slice(0, 57)}...` : s);

/** One-line human description of a step. */
export function describeStep(type: string, a: Record<string, any>): string {
  const thread = a.thread ? ` in the thread of ${a.thread}` : "";
  switch (type) {
    case "login":
      return `${a.user} logs in with the Slack app (${a.via ?? "chat"})`;
    case "slack.post":
      return `${a.user} posts ${a.blocks ? "rich_text blocks" : q(a.text ?? a.typed)} in ${a.channel}${thread}`;
    case "matrix.send":
      return `${a.user} sends ${q(a.text)} to ${a.channel}${thread}`;
    case "slack.react":
      return `${a.user} reacts :${a.emoji}: to ${a.message} on Slack`;
    case "slack.add_emoji":
      return `a workspace admin adds the custom emoji :${a.name}:${a.alias ? ` (alias of :${a.alias}:)` : ""}`;
    case "slack.unreact":
      return `${a.user} removes :${a.emoji}: from ${a.message} on Slack`;
    case "matrix.react":
      return `${a.user} reacts ${a.emoji} to ${a.message} on Matrix`;
    case "matrix.unreact":
      return `${a.user} removes ${a.emoji} from ${a.message} on Matrix`;
    case "slack.edit":
      return `${a.user} edits ${a.message} on Slack to ${q(a.text)}`;
    case "matrix.edit":
      return `${a.user} edits ${a.message} on Matrix to ${q(a.text)}`;
    case "slack.delete":
      return `${a.user} deletes ${a.message} on Slack`;
    case "matrix.redact":
      return `${a.user} redacts ${a.message} on Matrix`;
    case "slack.upload":
      return `${a.user} uploads ${a.file?.name}${a.file?.size ? ` (${a.file.size})` : ""} to ${a.channel}${thread}`;
    case "matrix.upload":
      return `${a.user} uploads ${a.file?.name}${a.file?.size ? ` (${a.file.size})` : ""} to ${a.channel}${thread}`;
    case "slack.traffic":
      return `${a.user} posts ${a.count} messages in ${a.channel} at ${a.per_second ?? DEFAULT_TRAFFIC_RATE}/s`;
    case "matrix.traffic":
      return `${a.user} sends ${a.count} messages to ${a.channel} at ${a.per_second ?? DEFAULT_TRAFFIC_RATE}/s`;
    case "restart":
      return `restart the ${a.service}`;
    case "wait.healthy":
      return "wait until the bridge is healthy";
    case "expect.health":
      return `bridge health: ${a.state ?? "CONNECTED"}${a.max_errors !== undefined ? `, <= ${a.max_errors} errors` : ""}`;
    case "expect.logs":
      return `${a.service ?? "bridge"} log${a.max_level ? ` has nothing above ${a.max_level}` : ""}${a.present?.length ? `, has ${a.present.map(q).join(", ")}` : ""}${a.absent?.length ? `, lacks ${a.absent.map(q).join(", ")}` : ""}`;
    case "expect.db":
      return `bridge database: ${["portals", "ghosts", "messages"]
        .filter((k) => a[k] !== undefined)
        .map((k) => `${k} ${describeCount(toCount(a[k]))}`)
        .concat(a.query ? [`query = ${describeCount(toCount(a.query.equals))}`] : [])
        .join(", ")}`;
    case "check":
      return checkTitle(a);
    default:
      return (
        describePortalStep(type, a) ??
        describeUpgradeStep(type, a) ??
        describeAuthStep(type, a) ??
        describeFaultStep(type, a) ??
        type
      );
  }
}

function toCount(c: Count): CountSpec {
  return typeof c === "number" ? { min: c, max: c } : c;
}

function relatesTo(e: SeenEvent): Record<string, any> | undefined {
  return e.content?.["m.relates_to"];
}

function isEditOrReaction(e: SeenEvent): boolean {
  const rel = relatesTo(e)?.rel_type;
  return rel === "m.replace" || rel === "m.annotation";
}

function redactsOf(e: SeenEvent): string | undefined {
  return e.content?.redacts ?? (e as any).redacts;
}

/** The envelope of a Slack event the fake delivered (first attempt), already written or still coming. */
async function envelopeFor(ctx: StepContext, pred: EnvelopeMatch, describe: string) {
  const control = ctx.state.control;
  const match = (e: { event: Record<string, unknown>; eventType: string; subtype?: string }) =>
    pred(e.event as any, e.eventType, e.subtype);
  const found = control.envelopes().filter(match);
  if (found.length) return found.reduce((a, b) => (a.sentAt <= b.sentAt ? a : b));
  return control.waitForEnvelope(match, { timeoutMs: ctx.timeoutMs, describe });
}

/** Arms a wait for `method` on the bridged message `m` (Slack names its ts field per method). */
function waitCallOn(ctx: StepContext, method: string, m: { channelId: string; ts: string }, tsField = "ts") {
  return waitCall(
    ctx,
    (c) => c.method === method && c.params.channel === m.channelId && c.params[tsField] === m.ts,
    `${method} on ${m.ts}`,
  );
}

function fileData(ctx: StepContext, f: FileArgs): { data: Uint8Array; mimetype: string } {
  const mimetype = f.mimetype ?? mimetypeFor(f.name);
  if (f.path) return { data: readFileSync(path.resolve(ctx.state.baseDir, f.path)), mimetype };
  if (f.size !== undefined) {
    const size = parseSize(f.size);
    if (size === undefined) fail(`file.size: not a size: ${f.size}`);
    return { data: deterministicBytes(size), mimetype };
  }
  if (mimetype === "image/png") return { data: generatePng(), mimetype };
  return { data: deterministicBytes(1024), mimetype };
}

// ---------------------------------------------------------------- implementations

const login: Impl = async (ctx, a: LoginArgs) => {
  const { state } = ctx;
  const ws = state.workspace;
  const app =
    (a.app ? ws.apps.find((x) => x.name === a.app) : ws.apps[0]) ??
    fail(`no Slack app ${a.app ?? ""} in the workspace`);
  const user = await state.user(a.user);
  const started = now();
  const lagsBefore = user.syncLags.length;
  if ((a.via ?? "chat") === "chat")
    await state.env.bridge.loginApp(user, { botToken: app.botToken, appToken: app.appToken });
  else await state.env.bridge.loginAppProvisioning(user, { botToken: app.botToken, appToken: app.appToken });
  ctx.details.loginMs = Math.round(now() - started);
  // Bot prompts the homeserver stored but its /sync did not deliver in time (read with /messages).
  const lags = user.syncLags.slice(lagsBefore);
  if (lags.length) ctx.details.syncHeldBack = lags.map((l) => `${l.eventId} (${l.describe})`);
  // A login (or a re-login in a shared environment) opens a new Socket Mode connection; until it is
  // open the bridge may still report the previous login's CONNECTED state.
  const control = state.control;
  let last: string | undefined;
  await waitUntil(
    async () => {
      const fresh = control.connections().some((c) => c.openedAt >= started && !c.closedAt);
      last = (await state.env.bridge.health(user)).state;
      return (fresh && last === "CONNECTED") || undefined;
    },
    {
      timeoutMs: ctx.timeoutMs,
      intervalMs: 200,
      describe: () =>
        `the login of ${a.user} to be CONNECTED on a new Socket Mode connection (state: ${last ?? "none"}, connections opened since the login: ${control.connections().filter((c) => c.openedAt >= started).length})`,
    },
  );
  ctx.details.connectedMs = Math.round(now() - started);
  if (!state.session.loggedIn.includes(a.user)) state.session.loggedIn.push(a.user);
};

type EnvelopeMatch = (ev: Record<string, any>, eventType: string, subtype?: string) => boolean;

/**
 * A Slack user's action (through the control API) as the observer sees it in the portal: the
 * observer's wait is armed first, then the action runs, then its envelope is found and the
 * Slack->Matrix latency sampled from the envelope's delivery to the Matrix event.
 */
async function slackActionSeen<R>(
  ctx: StepContext,
  o: {
    observer?: string;
    roomId: string;
    kind: string;
    /** For timeouts: what the observer waits for. */
    what: string;
    /** The Matrix event, beyond "in this room, after arming". */
    match: (e: SeenEvent) => boolean;
    act: () => Promise<R>;
    envelope: (result: R) => { match: EnvelopeMatch; name: string };
  },
): Promise<{ seen: SeenEvent; result: R; observer: MatrixUser }> {
  const who = ctx.state.observer(o.observer);
  const observer = await ctx.state.user(who);
  const armedAt = now();
  const seenP = observed(
    observer.waitForEvent((e) => e.seenAt >= armedAt && e.roomId === o.roomId && o.match(e), {
      timeoutMs: ctx.timeoutMs,
      roomId: o.roomId,
      describe: `${who} to see ${o.what}`,
    }),
  );
  const result = await o.act();
  const seen = await seenP;
  const envelope = o.envelope(result);
  const env = await envelopeFor(ctx, envelope.match, envelope.name);
  ctx.sample("slack_to_matrix", o.kind, env.sentAt, seen.seenAt, seen.observedAt);
  return { seen, result, observer };
}

/** A new Slack message (made by `post`) seen in the portal, kept for later steps. */
async function slackMessageSeen<P extends { ts: string }>(
  ctx: StepContext,
  a: { user: string; channel: string; thread?: string; observer?: string },
  opts: {
    kind: "message" | "thread_reply" | "file";
    what: string;
    /** The Slack ID the message comes from (default: the user's): an integration's B… ID. */
    author?: string;
    match: (e: SeenEvent) => boolean;
    post: (to: { user: string; channel: string; threadTs?: string }) => Promise<P>;
  },
): Promise<{ seen: SeenEvent; posted: P; observer: MatrixUser }> {
  const { state } = ctx;
  const roomId = await state.portalRoom(a.channel, state.observer(a.observer), ctx.timeoutMs);
  const channelId = state.channelId(a.channel);
  const slackUser = opts.author ?? state.slackUserId(a.user);
  const ghost = state.ghostMxid(slackUser);
  const root = a.thread ? state.message(a.thread) : undefined;
  const { seen, result, observer } = await slackActionSeen(ctx, {
    observer: a.observer,
    roomId,
    kind: opts.kind,
    what: `${a.user}'s ${opts.what} in ${roomId}`,
    match: (e) => e.type === "m.room.message" && e.sender === ghost && !isEditOrReaction(e) && opts.match(e),
    act: () => opts.post({ user: slackUser, channel: channelId, threadTs: root?.ts }),
    envelope: (posted) => ({
      match: (ev, t) => t === "message" && ev.ts === posted.ts && ev.channel === channelId,
      name: `the ${opts.kind} envelope for ${posted.ts}`,
    }),
  });
  state.messages.set(ctx.stepId, {
    stepId: ctx.stepId,
    channelId,
    ts: result.ts,
    roomId,
    eventId: seen.eventId,
  });
  return { seen, posted: result, observer };
}

const slackPost: Impl = async (ctx, a: SlackPostArgs) => {
  const { state } = ctx;
  const root = a.thread ? state.message(a.thread) : undefined;
  const text = a.text === undefined ? undefined : state.slackMentions(a.text);
  const what = a.text ?? a.typed ?? "rich_text blocks";
  if (a.bridged === false || a.new_portal) {
    if (text === undefined) fail("bridged: false and new_portal take a plain `text`, not typed or blocks");
    if (a.bridged === false) {
      if (root || a.new_portal || a.expect)
        fail("bridged: false cannot be combined with thread, new_portal or expect");
      await postNotBridged(ctx, { ...a, text });
      return;
    }
    if (root) fail("new_portal: the first message of a conversation cannot be a thread reply");
    const first = await postCreatingPortal(ctx, { ...a, text });
    const channelId = state.channelId(a.channel);
    state.messages.set(ctx.stepId, { stepId: ctx.stepId, channelId, ...first });
    ctx.details.eventId = first.eventId;
    ctx.details.ts = first.ts;
    return;
  }
  const author = state.slackAuthor(a.user);
  const { seen, posted } = await slackMessageSeen(ctx, a, {
    kind: root ? "thread_reply" : "message",
    what: `message ${q(what)}`,
    author: author.id,
    match: (e) => !root || relatesTo(e)?.event_id === root.eventId,
    post: (to) =>
      state.control.postMessage({
        ...author.as,
        channel: to.channel,
        threadTs: to.threadTs,
        text,
        typed: a.typed,
        blocks: a.blocks,
      }),
  });
  const ts = posted.ts;
  ctx.details.eventId = seen.eventId;
  ctx.details.ts = ts;
  const c = seen.content;
  const problems: string[] = [];
  if (root) {
    const rel = relatesTo(seen);
    if (rel?.rel_type !== "m.thread" || rel.event_id !== root.eventId)
      problems.push(`not a thread reply to ${root.eventId} (m.relates_to: ${JSON.stringify(rel)})`);
  }
  const ex = a.expect ?? {};
  const plain = a.text !== undefined && !/[*_~`<>&]/.test(a.text);
  const body = ex.body ?? (plain && !a.expect ? a.text : undefined);
  if (body !== undefined && c.body !== body)
    problems.push(`body is ${JSON.stringify(c.body)}, expected ${JSON.stringify(body)}`);
  if (body === undefined) {
    // By default the rendered text must be the message's: Slack markup and entities decoded, mentions,
    // emoji and dates rendered however the bridge renders them (checked by `expect` where it matters).
    const shown = c.formatted_body ? plainFromHtml(String(c.formatted_body)) : String(c.body ?? "");
    const m = plainMatches(plainFromBlocks(posted.blocks, "pattern"), shown);
    if (!m.ok)
      problems.push(`the text shown is ${JSON.stringify(shown)}, expected ${JSON.stringify(m.expected)}`);
  }
  for (const s of ex.contains ?? [])
    if (!String(c.body ?? "").includes(s))
      problems.push(`body ${JSON.stringify(c.body)} lacks ${JSON.stringify(s)}`);
  const html = String(c.formatted_body ?? "");
  for (const s of ex.html ?? [])
    if (!html.includes(s)) problems.push(`formatted_body ${JSON.stringify(html)} lacks ${JSON.stringify(s)}`);
  for (const s of ex.no_html ?? [])
    if (html.includes(s)) problems.push(`formatted_body ${JSON.stringify(html)} has ${JSON.stringify(s)}`);
  for (const m of ex.mentions ?? []) {
    const mxid = state.ghostMxid(state.slackUserId(m));
    if (!html.includes(mxid) && !html.includes(encodeURIComponent(mxid)))
      problems.push(`formatted_body does not mention ${m} (${mxid}): ${JSON.stringify(html)}`);
  }
  if (ex.room_mention !== undefined && Boolean(c["m.mentions"]?.room) !== ex.room_mention)
    problems.push(`m.mentions.room is ${Boolean(c["m.mentions"]?.room)}, expected ${ex.room_mention}`);
  if (problems.length) fail(`the Matrix event ${seen.eventId} does not match: ${problems.join("; ")}`);
};

/** A Matrix user posting into a portal (in a thread when `thread` names an earlier message). */
async function matrixSender(ctx: StepContext, a: { user: string; channel: string; thread?: string }) {
  const { state } = ctx;
  return {
    user: await state.user(a.user),
    roomId: await state.portalRoom(a.channel, a.user, ctx.timeoutMs),
    channelId: state.channelId(a.channel),
    root: a.thread ? state.message(a.thread) : undefined,
  };
}

const matrixSend: Impl = async (ctx, a: MatrixSendArgs) => {
  const { state } = ctx;
  const { user, roomId, channelId, root } = await matrixSender(ctx, a);
  const callP = waitCall(
    ctx,
    (c) =>
      (c.method === "chat.postMessage" || c.method === "chat.meMessage") &&
      c.params.channel === channelId &&
      (root ? c.params.thread_ts === root.ts : !c.params.thread_ts),
    `chat.postMessage in ${channelId} for ${q(a.text)}`,
  );
  const html = a.html !== undefined ? state.matrixMentions(a.html) : undefined;
  const sent = await user.sendText(roomId, a.text, { html, threadRootId: root?.eventId });
  const call = await callP;
  checkSlackCall(ctx, root ? "thread_reply" : "message", sent, call);
  const ts = String(call.response.ts ?? "");
  state.messages.set(ctx.stepId, { stepId: ctx.stepId, channelId, ts, roomId, eventId: sent.eventId });
  ctx.details.eventId = sent.eventId;
  ctx.details.ts = ts;
  const flat = flattenSlackMessage(call.params);
  const ex = a.expect ?? {};
  const problems: string[] = [];
  const text = ex.text ?? (a.html === undefined && !a.expect ? a.text : undefined);
  if (text !== undefined && flat.text.trim() !== text)
    problems.push(`text is ${JSON.stringify(flat.text)}, expected ${JSON.stringify(text)}`);
  if (text === undefined && a.html !== undefined) {
    // By default the message Slack stored must read as the HTML sent: its text, mentions however the
    // bridge encodes them.
    const blocks = parseJsonSafe(call.params.blocks);
    const stored = blocks ? plainFromBlocks(blocks, "text") : unescapeMrkdwn(call.params.text ?? "");
    const m = plainMatches(plainFromHtml(html ?? "", { pillsAsAny: true }), stored);
    if (!m.ok)
      problems.push(`Slack stored ${JSON.stringify(stored)}, expected ${JSON.stringify(m.expected)}`);
  }
  for (const s of ex.contains ?? [])
    if (!flat.text.includes(s)) problems.push(`text ${JSON.stringify(flat.text)} lacks ${JSON.stringify(s)}`);
  for (const s of ex.styles ?? [])
    if (!flat.styles.has(s))
      problems.push(`no ${s} style (styles: ${[...flat.styles].join(", ") || "none"})`);
  for (const l of ex.links ?? [])
    if (!flat.links.some((x) => x === l || x === `${l}/`))
      problems.push(`no link to ${l} (links: ${flat.links.join(", ") || "none"})`);
  for (const m of ex.mentions ?? []) {
    const id = state.slackUserId(m);
    if (!flat.mentions.includes(id))
      problems.push(`no mention of ${m} (${id}); mentions: ${flat.mentions.join(", ") || "none"}`);
  }
  if (problems.length) fail(`the Slack message ${ts} does not match: ${problems.join("; ")}`);
};

const slackReact =
  (remove: boolean): Impl =>
  async (ctx, a: SlackReactArgs) => {
    const { state } = ctx;
    const m = state.message(a.message);
    const slackUser = state.slackUserId(a.user);
    const ghost = state.ghostMxid(slackUser);
    const key = `slack|${a.user}|${a.message}|${a.emoji}`;
    const expectedKey = unicodeForShortcode(a.emoji);
    const reactionEventId = remove
      ? (state.reactions.get(key) ??
        fail(`no earlier slack.react of :${a.emoji}: by ${a.user} on ${a.message}`))
      : undefined;
    const type = remove ? "reaction_removed" : "reaction_added";
    const { seen } = await slackActionSeen(ctx, {
      observer: a.observer,
      roomId: m.roomId,
      kind: "reaction",
      what: `${a.user}'s :${a.emoji}: ${remove ? "removed" : "reaction"} on ${m.eventId}`,
      match: remove
        ? (e) => e.type === "m.room.redaction" && (redactsOf(e) ?? reactionEventId) === reactionEventId
        : (e) => e.type === "m.reaction" && e.sender === ghost && relatesTo(e)?.event_id === m.eventId,
      act: () => {
        const args = { user: slackUser, channel: m.channelId, ts: m.ts, name: a.emoji };
        return remove ? state.control.removeReaction(args) : state.control.addReaction(args);
      },
      envelope: () => ({
        match: (ev, t) => t === type && ev.item?.ts === m.ts && ev.reaction === a.emoji,
        name: `the ${type} envelope`,
      }),
    });
    if (!remove) {
      state.reactions.set(key, seen.eventId);
      const got = relatesTo(seen)?.key;
      if (expectedKey && !sameEmoji(String(got), expectedKey))
        fail(`reaction key is ${JSON.stringify(got)}, expected ${expectedKey}`);
      ctx.details.key = got;
      await checkCustomEmojiImage(ctx, a.emoji, seen);
    }
  };

/** A custom emoji's reaction must carry its image, byte for byte what Slack's emoji host serves. */
async function checkCustomEmojiImage(ctx: StepContext, name: string, seen: SeenEvent): Promise<void> {
  const { state } = ctx;
  let value = state.workspace.emoji[name];
  for (let hops = 0; value?.startsWith("alias:") && hops < 2; hops++)
    value = state.workspace.emoji[value.slice(6)];
  const served = value ? state.control.image(value) : undefined;
  if (!served) return;
  const mxc = seen.content["fi.mau.slack.reaction"]?.mxc;
  if (typeof mxc !== "string" || !mxc.startsWith("mxc://"))
    fail(
      `the reaction with custom emoji :${name}: carries no image (fi.mau.slack.reaction: ${JSON.stringify(seen.content["fi.mau.slack.reaction"])})`,
    );
  const got = await (await state.user(state.observer(undefined))).download(mxc);
  if (sha256(got) !== sha256(served.data))
    fail(
      `the image of :${name}: on Matrix (${got.length} bytes, sha256 ${sha256(got).slice(0, 12)}) is not the one Slack serves (${served.data.length} bytes, ${sha256(served.data).slice(0, 12)})`,
    );
  ctx.details.emojiImage = mxc;
}

const slackAddEmoji: Impl = async (ctx, a: { name: string; alias?: string }) => {
  const { state } = ctx;
  const added = await state.control.changeEmoji({ add: a.name, alias: a.alias });
  const env = await envelopeFor(
    ctx,
    (ev, t) => t === "emoji_changed" && ev.subtype === "add" && ev.name === a.name,
    `the emoji_changed envelope for :${a.name}:`,
  );
  await waitUntil(() => state.control.envelopes().find((e) => e.eventId === env.eventId && e.ackedAt), {
    timeoutMs: ctx.timeoutMs,
    intervalMs: 20,
    describe: () => `the bridge to acknowledge emoji_changed for :${a.name}:`,
  });
  ctx.details.value = added.value;
};

const matrixReact =
  (remove: boolean): Impl =>
  async (ctx, a: MatrixReactArgs) => {
    const { state } = ctx;
    const m = state.message(a.message);
    const user = await state.user(a.user);
    const key = `matrix|${a.user}|${a.message}|${a.emoji}`;
    const names = a.slack_name ? [a.slack_name] : slackNamesFor(a.emoji);
    const method = remove ? "reactions.remove" : "reactions.add";
    const callP = waitCallOn(ctx, method, m, "timestamp");
    let sent: { eventId: string; sentAt: number };
    if (remove) {
      const reactionId =
        state.reactions.get(key) ??
        fail(`no earlier matrix.react of ${a.emoji} by ${a.user} on ${a.message}`);
      sent = await user.redact(m.roomId, reactionId);
    } else {
      sent = await user.sendEvent(m.roomId, "m.reaction", {
        "m.relates_to": { rel_type: "m.annotation", event_id: m.eventId, key: reactionKey(a.emoji) },
      });
      state.reactions.set(key, sent.eventId);
    }
    const call = await callP;
    ctx.details.name = call.params.name;
    checkSlackCall(ctx, "reaction", sent, call);
    if (names && !names.includes(call.params.name))
      fail(
        `${method} name is ${JSON.stringify(call.params.name)}, expected ${names.map((n) => JSON.stringify(n)).join(" or ")}`,
      );
  };

const slackEdit: Impl = async (ctx, a: SlackEditArgs) => {
  const { state } = ctx;
  const m = state.message(a.message);
  const { seen } = await slackActionSeen(ctx, {
    observer: a.observer,
    roomId: m.roomId,
    kind: "edit",
    what: `the edit of ${m.eventId}`,
    match: (e) =>
      e.type === "m.room.message" &&
      relatesTo(e)?.rel_type === "m.replace" &&
      relatesTo(e)?.event_id === m.eventId,
    act: () =>
      state.control.editMessage({
        user: state.slackUserId(a.user),
        channel: m.channelId,
        ts: m.ts,
        text: state.slackMentions(a.text),
      }),
    envelope: () => ({
      match: (ev, t, sub) =>
        t === "message" && sub === "message_changed" && (ev.message?.ts === m.ts || ev.ts === m.ts),
      name: "the message_changed envelope",
    }),
  });
  const body = seen.content["m.new_content"]?.body;
  if (body !== a.text) fail(`edited body is ${JSON.stringify(body)}, expected ${JSON.stringify(a.text)}`);
};

const matrixEdit: Impl = async (ctx, a: MatrixEditArgs) => {
  const { state } = ctx;
  const m = state.message(a.message);
  const user = await state.user(a.user);
  const callP = waitCallOn(ctx, "chat.update", m);
  const sent = await user.sendEvent(m.roomId, "m.room.message", {
    msgtype: "m.text",
    body: `* ${a.text}`,
    "m.new_content": { msgtype: "m.text", body: a.text },
    "m.relates_to": { rel_type: "m.replace", event_id: m.eventId },
  });
  const call = await callP;
  checkSlackCall(ctx, "edit", sent, call);
  const flat = flattenSlackMessage(call.params);
  if (flat.text.trim() !== a.text)
    fail(`chat.update text is ${JSON.stringify(flat.text)}, expected ${JSON.stringify(a.text)}`);
};

const slackDelete: Impl = async (ctx, a: SlackDeleteArgs) => {
  const { state } = ctx;
  const m = state.message(a.message);
  await slackActionSeen(ctx, {
    observer: a.observer,
    roomId: m.roomId,
    kind: "deletion",
    what: `${m.eventId} redacted`,
    match: (e) => e.type === "m.room.redaction" && (redactsOf(e) ?? m.eventId) === m.eventId,
    act: () =>
      state.control.deleteMessage({ user: state.slackUserId(a.user), channel: m.channelId, ts: m.ts }),
    envelope: () => ({
      match: (ev, t, sub) => t === "message" && sub === "message_deleted" && ev.deleted_ts === m.ts,
      name: "the message_deleted envelope",
    }),
  });
};

const matrixRedact: Impl = async (ctx, a: MatrixRedactArgs) => {
  const { state } = ctx;
  const m = state.message(a.message);
  const user = await state.user(a.user);
  const callP = waitCallOn(ctx, "chat.delete", m);
  const sent = await user.redact(m.roomId, m.eventId);
  const call = await callP;
  checkSlackCall(ctx, "deletion", sent, call);
};

// ---------------------------------------------------------------- sustained traffic

const DEFAULT_TRAFFIC_RATE = 10;

/** Sends messages 1..count, one every 1/perSecond s (never two at once); returns when the last went out. */
async function paced(
  count: number,
  perSecond: number,
  send: (i: number, text: string) => Promise<void>,
  text: (i: number) => string,
): Promise<{ lastSentAt: number; seconds: number }> {
  const t0 = now();
  for (let i = 1; i <= count; i++) {
    const due = t0 + ((i - 1) * 1000) / perSecond;
    const wait = due - now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    await send(i, text(i));
  }
  const lastSentAt = now();
  return { lastSentAt, seconds: (lastSentAt - t0) / 1000 };
}

/** Numbered texts of one traffic step, and their numbers read back from what arrived. */
export function trafficTexts(stepId: string, count: number) {
  const prefix = `traffic ${stepId} `;
  return {
    text: (i: number) => `${prefix}${i}/${count}`,
    index: (body: unknown): number | undefined => {
      const m =
        typeof body === "string" && body.startsWith(prefix)
          ? /^(\d+)\/(\d+)$/.exec(body.slice(prefix.length))
          : null;
      return m && Number(m[2]) === count ? Number(m[1]) : undefined;
    },
  };
}

/** In numbers listed in arrival order: repeats, and first arrivals after a higher number. */
export function arrivalDisorder(order: readonly number[]): { duplicates: number; outOfOrder: number } {
  let duplicates = 0;
  let outOfOrder = 0;
  let highest = 0;
  const counted = new Set<number>();
  for (const i of order) {
    if (counted.has(i)) duplicates++;
    else if (i < highest) outOfOrder++;
    counted.add(i);
    highest = Math.max(highest, i);
  }
  return { duplicates, outOfOrder };
}

/**
 * Waits until all `count` numbered messages arrived (`arrivals` lists the numbers in arrival order),
 * then fails on any that came twice or out of order. Returns the first arrival of each number.
 */
async function allArrived<A>(
  ctx: StepContext,
  count: number,
  lastSentAt: number,
  arrivals: () => { i: number; arrival: A }[],
  where: string,
  ref: (i: number) => string | undefined,
  texts: { text: (i: number) => string },
): Promise<Map<number, A>> {
  const first = new Map<number, A>();
  let seen: { i: number; arrival: A }[] = [];
  const missing = () => {
    const ids = [];
    for (let i = 1; i <= count && ids.length < 10; i++) if (!first.has(i)) ids.push(i);
    // Which messages, for evidence (Slack ts / Matrix event ID).
    ctx.details.missing = ids.map((i) => ({ n: i, ref: ref(i), text: texts.text(i) }));
    return `${first.size} of ${count} arrived ${where}; missing ${ids.join(", ")}${count - first.size > ids.length ? ", ..." : ""}`;
  };
  // The step timeout counts from the last send: the sending itself takes count / per_second.
  await waitUntil(
    () => {
      seen = arrivals();
      for (const x of seen) if (!first.has(x.i)) first.set(x.i, x.arrival);
      return first.size >= count || undefined;
    },
    { timeoutMs: Math.max(0, lastSentAt + ctx.timeoutMs - now()), intervalMs: 200, describe: missing },
  );
  const { duplicates, outOfOrder } = arrivalDisorder(seen.map((x) => x.i));
  ctx.details.duplicates = duplicates;
  ctx.details.outOfOrder = outOfOrder;
  if (duplicates || outOfOrder)
    fail(`${where}: ${duplicates} duplicated and ${outOfOrder} out-of-order of ${count} messages`);
  return first;
}

/**
 * One traffic step: sends `count` numbered texts with `send` at `per_second`, waits until each came
 * out the other side (`arrivals`, given the parser of the numbered texts) once and in order.
 */
async function traffic<S, A>(
  ctx: StepContext,
  a: TrafficArgs,
  o: {
    send: (text: string) => Promise<S>;
    arrivals: (index: (body: unknown) => number | undefined) => { i: number; arrival: A }[];
    arrivedAt: (arrival: A) => number;
    where: string;
    /** Names a sent message in evidence (its Slack ts or Matrix event ID). */
    ref: (sent: S) => string;
  },
): Promise<{ sent: Map<number, S>; arrived: Map<number, A> }> {
  const texts = trafficTexts(ctx.stepId, a.count);
  const sent = new Map<number, S>();
  const { lastSentAt, seconds } = await paced(
    a.count,
    a.per_second ?? DEFAULT_TRAFFIC_RATE,
    async (i, text) => {
      sent.set(i, await o.send(text));
    },
    texts.text,
  );
  ctx.details.sendSeconds = Number(seconds.toFixed(1));
  const arrived = await allArrived(
    ctx,
    a.count,
    lastSentAt,
    () => o.arrivals(texts.index),
    o.where,
    (i) => {
      const s = sent.get(i);
      return s === undefined ? undefined : o.ref(s);
    },
    texts,
  );
  ctx.details.drainMs = Math.round(Math.max(...[...arrived.values()].map(o.arrivedAt)) - lastSentAt);
  return { sent, arrived };
}

const slackTraffic: Impl = async (ctx, a: TrafficArgs) => {
  const { state } = ctx;
  const who = state.observer(a.observer);
  const roomId = await state.portalRoom(a.channel, who, ctx.timeoutMs);
  const observer = await state.user(who);
  const channelId = state.channelId(a.channel);
  const slackUser = state.slackUserId(a.user);
  const ghost = state.ghostMxid(slackUser);
  const mark = observer.mark();
  const { sent, arrived } = await traffic(ctx, a, {
    send: async (text) => (await state.control.postMessage({ user: slackUser, channel: channelId, text })).ts,
    arrivals: (index) =>
      observer.events(mark).flatMap((e) => {
        if (e.roomId !== roomId || e.type !== "m.room.message" || e.sender !== ghost || isEditOrReaction(e))
          return [];
        const i = index(e.content.body);
        return i === undefined ? [] : [{ i, arrival: e }];
      }),
    arrivedAt: (e) => e.seenAt,
    where: `in ${roomId} for ${who}`,
    ref: (ts) => ts,
  });
  // Latency per message: the envelope's delivery to the bridge -> the observer's sync.
  const delivered = new Map<string, number>();
  for (const env of state.control.envelopes())
    if (env.eventType === "message" && !env.subtype && env.event.channel === channelId) {
      const ts = String(env.event.ts);
      delivered.set(ts, Math.min(delivered.get(ts) ?? Number.POSITIVE_INFINITY, env.sentAt));
    }
  for (const [i, e] of arrived) {
    const sentAt = delivered.get(sent.get(i) ?? "") ?? fail(`no envelope for message ${i} (${sent.get(i)})`);
    ctx.sample("slack_to_matrix", "traffic", sentAt, e.seenAt);
  }
};

const matrixTraffic: Impl = async (ctx, a: TrafficArgs) => {
  const { state } = ctx;
  const { user, roomId, channelId } = await matrixSender(ctx, a);
  const sinceSeq = state.control.calls().length;
  const { sent, arrived } = await traffic(ctx, a, {
    // While the homeserver is unreachable (a fault step), the sender retries as a client does.
    send: (text) => user.sendText(roomId, text, { retryUntil: now() + ctx.timeoutMs }),
    arrivals: (index) =>
      state.control.calls().flatMap((c) => {
        // A call the fake refused (a fault) did not post anything: only a later success counts.
        if (
          c.seq <= sinceSeq ||
          c.method !== "chat.postMessage" ||
          c.params.channel !== channelId ||
          !c.response.ok
        )
          return [];
        const i = index(flattenSlackMessage(c.params).text.trim());
        return i === undefined ? [] : [{ i, arrival: c }];
      }),
    arrivedAt: (c) => c.receivedAt,
    where: `as chat.postMessage in ${channelId}`,
    ref: (s) => s.eventId,
  });
  for (const [i, call] of arrived) {
    ctx.sample("matrix_to_slack", "traffic", (sent.get(i) as { sentAt: number }).sentAt, call.receivedAt);
  }
};

const slackUpload: Impl = async (ctx, a: SlackUploadArgs) => {
  const { data, mimetype } = fileData(ctx, a.file);
  const { seen, posted, observer } = await slackMessageSeen(ctx, a, {
    kind: "file",
    what: `file ${a.file.name}`,
    match: (e) => typeof e.content.url === "string",
    post: (to) =>
      ctx.state.control.uploadFile({
        ...to,
        filename: a.file.name,
        mimetype,
        data,
        initialComment: a.comment,
      }),
  });
  const fileId = posted.fileId;
  const downloadStart = now();
  const got = await observer.download(seen.content.url);
  ctx.details.downloadMs = Math.round(now() - downloadStart);
  ctx.details.fileId = fileId;
  ctx.details.msgtype = seen.content.msgtype;
  ctx.details.bytes = got.length;
  if (got.length !== data.length || sha256(got) !== sha256(data))
    fail(
      `the Matrix media differs from the Slack file: ${got.length} bytes (sha256 ${sha256(got).slice(0, 12)}), expected ${data.length} (${sha256(data).slice(0, 12)})`,
    );
  if (mimetype.startsWith("image/") && seen.content.msgtype !== "m.image")
    fail(`msgtype is ${seen.content.msgtype}, expected m.image`);
};

const matrixUpload: Impl = async (ctx, a: MatrixUploadArgs) => {
  const { state } = ctx;
  const { user, roomId, channelId, root } = await matrixSender(ctx, a);
  const { data, mimetype } = fileData(ctx, a.file);
  const uploadStart = now();
  const mxc = await user.upload(data, { name: a.file.name, mimetype });
  ctx.details.mediaUploadMs = Math.round(now() - uploadStart);
  const callP = waitCall(
    ctx,
    (c) => c.method === "files.completeUploadExternal" && c.params.channel_id === channelId,
    `files.completeUploadExternal in ${channelId} for ${a.file.name}`,
  );
  const content: Record<string, any> = {
    msgtype: mimetype.startsWith("image/") ? "m.image" : "m.file",
    body: a.file.name,
    filename: a.file.name,
    url: mxc,
    info: { mimetype, size: data.length },
  };
  if (root)
    content["m.relates_to"] = {
      rel_type: "m.thread",
      event_id: root.eventId,
      is_falling_back: true,
      "m.in_reply_to": { event_id: root.eventId },
    };
  const sent = await user.sendEvent(roomId, "m.room.message", content);
  const call = await callP;
  checkSlackCall(ctx, "file", sent, call);
  let fileId: string | undefined;
  try {
    fileId = JSON.parse(call.params.files ?? "[]")[0]?.id;
  } catch {
    fileId = undefined;
  }
  ctx.details.fileId = fileId;
  const stored = await waitUntil(
    () => state.control.history(channelId).find((msg) => msg.files.some((f) => f.id === fileId)),
    {
      timeoutMs: ctx.timeoutMs,
      intervalMs: 100,
      describe: () => `the shared file ${fileId} in the fake's ${channelId} history`,
    },
  );
  const f = stored.files.find((x) => x.id === fileId)!;
  state.messages.set(ctx.stepId, {
    stepId: ctx.stepId,
    channelId,
    ts: stored.ts,
    roomId,
    eventId: sent.eventId,
  });
  ctx.details.bytes = f.size;
  if (f.size !== data.length)
    fail(`Slack stored ${f.size} bytes for ${a.file.name}, expected ${data.length}`);
};

const restart: Impl = async (ctx, a: RestartArgs) => {
  const started = now();
  if (a.service === "bridge") await ctx.state.env.bridge.restart();
  else await ctx.state.env.homeserver.restart();
  ctx.details.restartMs = Math.round(now() - started);
};

const waitHealthy: Impl = async (ctx, a: WaitHealthyArgs) => {
  const { state } = ctx;
  // A restart may take longer than the default step timeout; a timeout the step gives is kept.
  const limitMs = ctx.timeoutMs === DEFAULT_TIMEOUT_MS ? 60_000 : ctx.timeoutMs;
  const who = a.user ?? state.session.loggedIn[0];
  const user = who ? await state.user(who) : undefined;
  let last: unknown;
  const started = now();
  await waitUntil(
    async () => {
      try {
        const h = await state.env.bridge.health(user);
        last = h;
        const open = state.control.connections().some((c) => !c.closedAt);
        return (h.live && h.ready && (!user || (h.state === "CONNECTED" && open))) || undefined;
      } catch (e) {
        last = (e as Error).message;
        return undefined;
      }
    },
    {
      timeoutMs: limitMs,
      intervalMs: 250,
      describe: () => `the bridge to be healthy (last: ${JSON.stringify(last)})`,
    },
  );
  // The Matrix side too: every user's sync must deliver again (after a homeserver restart the
  // client reconnects with a backoff that would otherwise count as bridge latency).
  for (const [localpart, userP] of state.session.users) {
    const u = await userP;
    // A portal the user joined (rooms() also lists rooms it is only invited to).
    const roomId = [...state.session.portals.entries()].find(([k]) => k.endsWith(`|${localpart}`))?.[1];
    if (roomId) await syncProbe(u, roomId, limitMs);
  }
  ctx.details.waitedMs = Math.round(now() - started);
  ctx.details.health = last;
};

/** Sends a custom (unbridged) event and waits until the user's own sync delivers it. */
async function syncProbe(user: MatrixUser, roomId: string, timeoutMs: number): Promise<void> {
  const deadline = now() + timeoutMs;
  let lastError = "";
  while (now() < deadline) {
    const armedAt = now();
    const seen = armed(
      user.waitForEvent((e) => e.seenAt >= armedAt && e.roomId === roomId && e.type === PROBE_TYPE, {
        timeoutMs: Math.max(1000, Math.min(10_000, deadline - now())),
        describe: `${user.userId}'s sync to deliver a probe event in ${roomId}`,
      }),
    );
    try {
      await user.sendEvent(roomId, PROBE_TYPE, { at: Math.round(armedAt) });
      await seen;
      return;
    } catch (e) {
      lastError = (e as Error).message;
      // A refusal (4xx) will not change by retrying; a homeserver still starting will.
      if (/HTTP 4\d\d/.test(lastError) && !/HTTP 429/.test(lastError))
        throw new Error(`sync probe refused: ${lastError}`);
      // A send that failed never arrives: try again soon rather than when its waiter gives up.
      await Promise.race([seen.catch(() => undefined), new Promise((r) => setTimeout(r, 500))]);
    }
  }
  throw new Error(`${user.userId}'s Matrix sync did not recover: ${lastError}`);
}

const PROBE_TYPE = "org.bridge_harness.probe";

async function bridgeErrorLines(ctx: StepContext): Promise<string[]> {
  const lines = await serviceLog(ctx, "bridge");
  return lines.filter((l) => {
    const lv = lineLevel(l);
    return lv === "error" || lv === "fatal";
  });
}

const expectHealth: Impl = async (ctx, a: ExpectHealthArgs) => {
  const { state } = ctx;
  const who = a.user ?? state.session.loggedIn[0];
  const user = who ? await state.user(who) : undefined;
  const h = await state.env.bridge.health(user);
  const control = state.control;
  const lastEnvelope = Math.max(
    0,
    ...control
      .envelopes()
      .filter((e) => e.eventType === "message" && e.ackedAt)
      .map((e) => e.ackedAt ?? 0),
  );
  const lastCall = Math.max(
    0,
    ...control
      .calls()
      .filter((c) => c.method === "chat.postMessage" && c.response.ok)
      .map((c) => c.receivedAt),
  );
  const lastMessageAt = Math.max(lastEnvelope, lastCall);
  const errors = await bridgeErrorLines(ctx);
  ctx.details.state = h.state;
  ctx.details.live = h.live;
  ctx.details.ready = h.ready;
  ctx.details.lastMessageAgoMs = lastMessageAt ? Math.round(now() - lastMessageAt) : null;
  ctx.details.errorCount = errors.length;
  const problems: string[] = [];
  const want = a.state ?? "CONNECTED";
  if (h.state !== want) problems.push(`login state is ${h.state ?? "unknown"}, expected ${want}`);
  if (!h.live || !h.ready) problems.push(`bridge live=${h.live} ready=${h.ready}`);
  if (a.last_message_within !== undefined) {
    const within =
      parseDuration(a.last_message_within) ??
      fail(`last_message_within: not a duration: ${a.last_message_within}`);
    if (!lastMessageAt) problems.push("no message has crossed the bridge");
    else if (now() - lastMessageAt > within)
      problems.push(
        `last message ${Math.round((now() - lastMessageAt) / 1000)} s ago, expected within ${within / 1000} s`,
      );
  }
  if (a.max_errors !== undefined && errors.length > a.max_errors)
    problems.push(
      `${errors.length} error lines in the bridge log (max ${a.max_errors}), first: ${errors[0]}`,
    );
  if (problems.length) fail(problems.join("; "));
};

/**
 * The lines of a service's log: all of them, or (default) those logged since the scenario started.
 * Lines of a known issue the environment declares (environments/*.yaml `known_issues`) are left out
 * and counted in the step's details instead, with the issue's reason, so every report shows them.
 */
export async function serviceLog(
  ctx: { state: ScenarioState; details?: Record<string, unknown> },
  service: string,
  whole = false,
): Promise<string[]> {
  const all = await allServiceLines(ctx.state, service);
  const lines = whole ? all : all.slice(ctx.state.logMarks.get(service) ?? 0);
  const known = (ctx.state.env.spec.knownIssues ?? []).filter((k) => k.service === service);
  if (!known.length) return lines;
  const hits = known.map((k) => ({ reason: k.reason, pattern: new RegExp(k.log), lines: 0, first: "" }));
  const rest = lines.filter((line) => {
    const hit = hits.find((h) => h.pattern.test(line));
    if (!hit) return true;
    hit.lines++;
    hit.first ||= line.trim().slice(0, 300);
    return false;
  });
  const seen = hits.filter((h) => h.lines > 0).map(({ pattern: _p, ...h }) => h);
  if (seen.length && ctx.details) ctx.details.knownIssues = seen;
  return rest;
}

/** Remembers how long each service's log is, so log assertions see only this scenario's lines. */
export async function markLogs(state: ScenarioState): Promise<void> {
  for (const service of LOG_SERVICES) {
    try {
      state.logMarks.set(service, (await allServiceLines(state, service)).length);
    } catch {
      state.logMarks.set(service, 0);
    }
  }
}

async function allServiceLines(state: ScenarioState, service: string): Promise<string[]> {
  const env = state.env;
  if (service === "bridge") return env.bridge.logLines();
  const { readFile } = await import("node:fs/promises");
  const { redact } = await import("../util/redact.ts");
  const file =
    service === "homeserver"
      ? env.homeserver.logFile
      : service === "postgres"
        ? path.join(env.runDir, "postgres.log")
        : env.homeserver.extraLogs[service];
  if (!file) throw new Error(`environment ${env.spec.name} has no ${service} service`);
  return redact(await readFile(file, "utf8")).split("\n");
}

const expectLogs: Impl = async (ctx, a: ExpectLogsArgs) => {
  const service = a.service ?? "bridge";
  const lines = await serviceLog(ctx, service, a.since === "start");
  ctx.details.lines = lines.length;
  const problems: string[] = [];
  for (const p of a.present ?? [])
    if (!lines.some(lineMatcher(p))) problems.push(`no line matches ${JSON.stringify(p)}`);
  for (const p of a.absent ?? []) {
    const hit = lines.find(lineMatcher(p));
    if (hit !== undefined) problems.push(`a line matches ${JSON.stringify(p)}: ${hit.trim().slice(0, 300)}`);
  }
  if (a.max_level) {
    const over = lines.filter((l) => {
      const lv = lineLevel(l);
      return lv !== undefined && levelAbove(lv, a.max_level!);
    });
    if (over.length)
      problems.push(`${over.length} line(s) above ${a.max_level}, first: ${over[0].trim().slice(0, 300)}`);
  }
  if (problems.length) fail(`${service} log: ${problems.join("; ")}`);
};

const DB_FACTS: Record<string, string> = {
  portals: "SELECT count(*)::int AS n FROM portal WHERE mxid IS NOT NULL AND room_type <> 'space'",
  ghosts: "SELECT count(*)::int AS n FROM ghost",
  messages: "SELECT count(*)::int AS n FROM message",
};

const expectDb: Impl = async (ctx, a: ExpectDbArgs) => {
  const pg = ctx.state.env.postgres;
  const checks: { label: string; db: string; sql: string; want: CountSpec }[] = [];
  for (const k of ["portals", "ghosts", "messages"] as const)
    if (a[k] !== undefined)
      checks.push({ label: k, db: "mautrix_slack", sql: DB_FACTS[k], want: toCount(a[k]!) });
  if (a.query)
    checks.push({
      label: "query",
      db: a.query.database ?? "mautrix_slack",
      sql: a.query.sql,
      want: toCount(a.query.equals),
    });
  let problems: string[] = [];
  await waitUntil(
    async () => {
      problems = [];
      for (const c of checks) {
        const rows = await pg.query<Record<string, unknown>>(c.db, c.sql);
        const first = rows[0] ? Number(Object.values(rows[0])[0]) : Number.NaN;
        ctx.details[c.label] = first;
        if (!checkCount(first, c.want))
          problems.push(`${c.label} is ${first}, expected ${describeCount(c.want)}`);
      }
      return problems.length === 0 || undefined;
    },
    {
      timeoutMs: Math.min(ctx.timeoutMs, 10_000),
      intervalMs: 250,
      describe: () => `bridge database: ${problems.join("; ")}`,
    },
  );
};

export const IMPLEMENTATIONS: Record<string, Impl> = {
  login,
  "slack.post": slackPost,
  "slack.add_emoji": slackAddEmoji,
  "slack.traffic": slackTraffic,
  "matrix.traffic": matrixTraffic,
  "matrix.send": matrixSend,
  "slack.react": slackReact(false),
  "slack.unreact": slackReact(true),
  "matrix.react": matrixReact(false),
  "matrix.unreact": matrixReact(true),
  "slack.edit": slackEdit,
  "matrix.edit": matrixEdit,
  "slack.delete": slackDelete,
  "matrix.redact": matrixRedact,
  "slack.upload": slackUpload,
  "matrix.upload": matrixUpload,
  restart,
  "wait.healthy": waitHealthy,
  "expect.health": expectHealth,
  "expect.logs": expectLogs,
  "expect.db": expectDb,
  ...PORTAL_IMPLEMENTATIONS,
  ...UPGRADE_IMPLEMENTATIONS,
  ...CHECK_IMPLEMENTATIONS,
  ...AUTH_IMPLEMENTATIONS,
  ...FAULT_IMPLEMENTATIONS,
};
