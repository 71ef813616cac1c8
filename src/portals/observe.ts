// How portal-lifecycle steps observe an outcome: a Slack-side change is acted through the fake's
// control API and then looked for on the Matrix side (or, with expect: not_bridged, looked for in
// vain for a window); a Matrix-side change is looked for as the Web API call the bridge makes.
import type { EnvelopeRecord, RecordedCall } from "../../fakes/slack/api.ts";
import { parseDuration } from "../config/units.ts";
import type { MatrixUser, SeenEvent } from "../environment/api.ts";
import { fail, waitCall } from "../scenario/observe.ts";
import type { StepContext } from "../scenario/steps.ts";
import { now, waitUntil } from "../util/clock.ts";

export const DEFAULT_WINDOW_MS = 2000;

export type Duration = number | string;

export function windowMs(window: Duration | undefined): number {
  if (window === undefined) return DEFAULT_WINDOW_MS;
  return parseDuration(window) ?? fail(`window: not a duration: ${window}`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What the observer saw after a change was armed: its events in the portal, its own membership changes. */
export interface Observation {
  /** The portal room, when it existed before the change (else undefined): where the change shows. */
  roomId?: string;
  armedAt: number;
  /** Events in `roomId` (or anywhere, without one) seen since arming, oldest first. */
  events(): SeenEvent[];
  /** The observer's own membership changes since arming. */
  memberships(): { roomId: string; membership: string; seenAt: number }[];
}

/**
 * A Slack-side change: `act` runs after the observation is armed. With expect: bridged, `outcome`
 * is polled until it returns the moment (SeenEvent.seenAt) the observer saw the change complete, and
 * the Slack -> Matrix latency is sampled from the first envelope that carried it. With not_bridged,
 * nothing may reach the observer within the window, while every such envelope must reach the bridge.
 */
export async function slackChange(
  ctx: StepContext,
  o: {
    observer: MatrixUser;
    roomId?: string;
    expect: string;
    window?: Duration;
    kind: string;
    act: () => Promise<void>;
    /** The envelopes that carry this change (decided after act: IDs may come from it). */
    carries: (e: EnvelopeRecord) => boolean;
    outcome: (obs: Observation) => number | undefined | Promise<number | undefined>;
    /** For timeouts: what the observer waits for. */
    what: () => string;
    /** With not_bridged: further checks after the window (e.g. no portal in the database). */
    nothingElse?: () => Promise<void>;
  },
): Promise<void> {
  const { observer, roomId } = o;
  const control = ctx.state.control;
  const mark = observer.mark();
  const envelopeMark = control.envelopes().length;
  const armedAt = now();
  const obs: Observation = {
    roomId,
    armedAt,
    events: () => observer.events(mark).filter((e) => !roomId || e.roomId === roomId),
    memberships: () => observer.membershipChanges().filter((m) => m.seenAt >= armedAt),
  };
  await o.act();
  const carried = () => control.envelopes().slice(envelopeMark).filter(o.carries);
  if (o.expect === "not_bridged") {
    await sleep(windowMs(o.window));
    const envelopes = carried();
    ctx.details.envelopes = envelopes.map((e) => e.subtype ?? e.eventType);
    const unacked = envelopes.filter((e) => e.ackedAt === undefined);
    if (unacked.length)
      fail(
        `the bridge did not acknowledge ${unacked.map((e) => e.subtype ?? e.eventType).join(", ")} within ${windowMs(o.window)} ms: it did not receive the change, so "not bridged" proves nothing`,
      );
    // Only the portal's own room counts: other rooms may see unrelated traffic (a login's resync).
    const arrived = roomId ? obs.events().filter((e) => e.sender !== observer.userId) : [];
    const moved = roomId ? obs.memberships().filter((m) => m.roomId === roomId) : [];
    if (arrived.length || moved.length)
      fail(
        `expected nothing to reach ${observer.userId} in ${roomId} within ${windowMs(o.window)} ms, but ${[
          ...arrived
            .slice(0, 3)
            .map((e) => `${e.type} from ${e.sender} ${JSON.stringify(e.content).slice(0, 120)}`),
          ...moved.slice(0, 3).map((m) => `its membership became ${m.membership}`),
        ].join("; ")} (the bridge relays this now: update the scenario)`,
      );
    await o.nothingElse?.();
    return;
  }
  // Polled often: the sample uses the outcome's own stamp, but the step should not lag behind it.
  let seenAt: number;
  try {
    seenAt = await waitUntil(() => o.outcome(obs), {
      timeoutMs: ctx.timeoutMs,
      intervalMs: 5,
      describe: () => `${observer.userId} to see ${o.what()}`,
    });
  } catch (e) {
    fail(`${(e as Error).message}\n${timeoutEvidence(carried(), obs)}`);
  }
  const observedAt = now();
  const envelopes = carried();
  if (!envelopes.length) fail(`no Slack event carried the change, yet ${o.what()} happened`);
  const start = Math.min(...envelopes.map((e) => e.sentAt));
  ctx.details.envelopes = [...new Set(envelopes.map((e) => e.subtype ?? e.eventType))];
  ctx.sample("slack_to_matrix", o.kind, start, seenAt, observedAt);
}

/** After a timeout: whether Slack's events reached the bridge, and what the observer saw instead. */
function timeoutEvidence(envelopes: EnvelopeRecord[], obs: Observation): string {
  const delivered = envelopes.length
    ? envelopes
        .map(
          (e) =>
            `${e.subtype ?? e.eventType} on ${e.connectionId}, ${
              e.ackedAt === undefined
                ? "never acknowledged"
                : `acknowledged after ${Math.round(e.ackedAt - e.sentAt)} ms`
            }`,
        )
        .join("; ")
    : "no Slack event carried the change";
  const events = obs.events().slice(-5);
  const saw = events.length
    ? events.map((e) => `${e.type} from ${e.sender} ${JSON.stringify(e.content).slice(0, 160)}`).join("; ")
    : "nothing";
  return `  Slack events: ${delivered}\n  seen in the room meanwhile (last 5): ${saw}`;
}

/** Envelopes about a conversation (its ID as `channel`, `channel.id` or `item.channel`). */
export function aboutChannel(channelId: () => string | undefined) {
  return (e: EnvelopeRecord): boolean => {
    const ev = e.event as Record<string, any>;
    const id = channelId();
    return !!id && (ev.channel === id || ev.channel?.id === id || ev.item?.channel === id);
  };
}

/** The first event in the observation matching `pred`: its seenAt. */
export function seen(obs: Observation, pred: (e: SeenEvent) => boolean): number | undefined {
  return obs.events().find(pred)?.seenAt;
}

/** When the observer's membership in `roomId` became one of `memberships` (since arming). */
export function membershipSeen(obs: Observation, roomId: string, memberships: string[]): number | undefined {
  return obs.memberships().find((m) => m.roomId === roomId && memberships.includes(m.membership))?.seenAt;
}

/**
 * A new portal for the conversation: the bridge database names its room and the observer has been
 * invited to (or joined) it since arming. The outcome returns when the observer saw that; the
 * database is asked at most every 50 ms, until it names the room.
 */
export function portalAppeared(
  ctx: StepContext,
  channelId: () => string | undefined,
): (obs: Observation) => Promise<number | undefined> {
  let mxid: string | undefined;
  let askedAt = 0;
  return async (obs) => {
    const id = channelId();
    if (!id) return undefined;
    // The room is recorded before the observer is invited: look it up ahead of the invite.
    if (!mxid && Date.now() - askedAt >= 50) {
      askedAt = Date.now();
      mxid = await ctx.state.portalMxid(id);
    }
    return mxid ? membershipSeen(obs, mxid, ["invite", "join"]) : undefined;
  };
}

/** Fails when the bridge has a portal room for the conversation. */
export async function noPortal(ctx: StepContext, channelId: string | undefined, what: string): Promise<void> {
  const mxid = channelId ? await ctx.state.portalMxid(channelId) : undefined;
  if (mxid)
    fail(`the bridge created a portal room (${mxid}) for ${what} (it relays this now: update the scenario)`);
}

/**
 * A Matrix-side change: `act` makes it (resolving to the send time); with expect: bridged the bridge
 * must call `method` (`matches` its parameters) and the call is checked and sampled; not_bridged: no
 * such call within the window; refused: the homeserver rejects the change with 403.
 */
export async function matrixChange(
  ctx: StepContext,
  o: {
    expect: string;
    window?: Duration;
    kind: string;
    method: string;
    matches: (c: RecordedCall) => boolean;
    act: () => Promise<number>;
    /** With bridged: the error Slack answers with (default: ok). */
    slackError?: string;
    /** With bridged: further checks of the call. */
    check?: (c: RecordedCall) => void;
  },
): Promise<RecordedCall | undefined> {
  const control = ctx.state.control;
  const sinceSeq = control.calls().length;
  const callP =
    o.expect === "bridged"
      ? waitCall(ctx, (c) => c.method === o.method && o.matches(c), `the bridge to call ${o.method}`)
      : undefined;
  let sentAt: number;
  try {
    sentAt = await o.act();
  } catch (e) {
    const message = (e as Error).message;
    if (o.expect === "refused" && /HTTP 403/.test(message)) {
      ctx.details.refused = message;
      return undefined;
    }
    throw e;
  }
  if (o.expect === "refused") fail("the homeserver accepted the change, expected it to refuse (403)");
  if (!callP) {
    await sleep(windowMs(o.window));
    const calls = control.calls().filter((c) => c.seq > sinceSeq && c.method === o.method && o.matches(c));
    if (calls.length)
      fail(
        `expected no ${o.method} within ${windowMs(o.window)} ms, but the bridge called it with ${JSON.stringify(calls[0]?.params)} (it relays this now: update the scenario)`,
      );
    return undefined;
  }
  const call = await callP;
  ctx.sample("matrix_to_slack", o.kind, sentAt, call.receivedAt, call.observedAt, call.matchedAt);
  ctx.details.slackAnswer = call.response.ok ? "ok" : call.response.error;
  if (o.slackError !== undefined) {
    if (call.response.error !== o.slackError)
      fail(
        `${o.method} was answered ${call.response.ok ? "ok" : call.response.error}, expected the error ${o.slackError}`,
      );
  } else if (!call.response.ok) fail(`${o.method} failed: ${call.response.error}`);
  o.check?.(call);
  return call;
}
