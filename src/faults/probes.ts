// Availability probes: from probe.start until expect.availability, every `every` a Slack user posts a
// numbered probe and a Matrix user sends one. A probe counts as available when it comes out the other
// side within the budget, measured from when the person sent it (the Slack post; the Matrix probe as
// it entered the client's outbox, which sends one message at a time and retries while the
// homeserver does not take it).
import type { MatrixUser } from "../environment/api.ts";
import type { Direction, ProbeRecord } from "../report/model.ts";
import { flattenSlackMessage } from "../scenario/content.ts";
import type { ScenarioState } from "../scenario/state.ts";
import type { StepContext } from "../scenario/steps.ts";
import { now, waitUntil } from "../util/clock.ts";
import {
  availabilityProblems,
  computeAvailability,
  formatPercent,
  knownProblemOf,
  parsePercent,
  probeProblem,
} from "./availability.ts";
import { bridgeWarnings, matrixMessageEvidence, slackMessageEvidence } from "./evidence.ts";

type Impl = (ctx: StepContext, args: any) => Promise<void>;

const DEFAULT_EVERY_MS = 5_000;
/** How long a Matrix probe is retried while the homeserver does not take it. */
const SEND_RETRY_MS = 120_000;

interface ProbeArgs {
  channel: string;
  slack_user: string;
  user?: string;
  every?: number;
}

interface Probe extends ProbeRecord {
  text: string;
  /** Slack ts (Slack -> Matrix) or Matrix event ID (Matrix -> Slack), once known. */
  ref?: string;
  /** Why the homeserver never took a Matrix probe. */
  sendError?: string;
}

/** Where probes go: the portal and its channel, who sends them and who sees them arrive. */
interface ProbePath {
  roomId: string;
  channelId: string;
  slackUser: string;
  ghost: string;
  observer: MatrixUser;
  /** Only events seen and calls made after the run started count. */
  mark: number;
  sinceSeq: number;
}

/** One probe run: sends on a timer, and reads arrivals from the observer's sync and the fake's calls. */
class ProbeRun {
  readonly stepId: string;
  readonly startAt = now();
  readonly everyMs: number;
  readonly budgetMs: Record<Direction, number>;
  readonly probes: Probe[] = [];
  private readonly sends = new Set<Promise<unknown>>();
  /** Matrix probes go out one after the other, as a client's outbox sends (and retries) them. */
  private outbox: Promise<unknown> = Promise.resolve();
  private readonly state: ScenarioState;
  private readonly where: ProbePath;
  private timer?: NodeJS.Timeout;
  stoppedAt?: number;

  constructor(
    state: ScenarioState,
    where: ProbePath,
    opts: { stepId: string; everyMs: number; budgetMs: Record<Direction, number> },
  ) {
    this.state = state;
    this.where = where;
    this.stepId = opts.stepId;
    this.everyMs = opts.everyMs;
    this.budgetMs = opts.budgetMs;
  }

  start(): void {
    this.tick();
    this.timer = setInterval(() => this.tick(), this.everyMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.stoppedAt ??= now();
  }

  private text(direction: Direction, n: number): string {
    return `probe ${this.stepId} ${direction === "slack_to_matrix" ? "s2m" : "m2s"} ${n}`;
  }

  tick(): void {
    const n = this.probes.length / 2 + 1;
    const { control } = this.state;
    const s2m: Probe = { direction: "slack_to_matrix", n, sentAt: now(), arrivals: 0, text: "" };
    s2m.text = this.text("slack_to_matrix", n);
    this.probes.push(s2m);
    this.track(
      control
        .postMessage({ user: this.where.slackUser, channel: this.where.channelId, text: s2m.text })
        .then((r) => (s2m.ref = r.ts)),
    );
    const m2s: Probe = { direction: "matrix_to_slack", n, sentAt: now(), arrivals: 0, text: "" };
    m2s.text = this.text("matrix_to_slack", n);
    this.probes.push(m2s);
    // sentAt stays when the person sent it, however long the outbox took.
    this.outbox = this.outbox.then(() =>
      this.where.observer
        .sendText(this.where.roomId, m2s.text, { retryUntil: m2s.sentAt + SEND_RETRY_MS })
        .then(
          (r) => (m2s.ref = r.eventId),
          (e) => (m2s.sendError = (e as Error).message),
        ),
    );
    this.track(this.outbox);
  }

  private track(p: Promise<unknown>): void {
    const settled = p.catch(() => undefined).finally(() => this.sends.delete(settled));
    this.sends.add(settled);
  }

  /** Sends still being retried. */
  settleSends(): Promise<unknown> {
    return Promise.allSettled([...this.sends]);
  }

  /** Recounts every probe's arrivals; true when each arrived or is too old to count as late. */
  collect(): boolean {
    const byText = new Map(this.probes.map((p) => [p.text, p]));
    for (const p of this.probes) {
      p.arrivals = 0;
      p.deliveredAt = undefined;
    }
    const arrive = (text: string, at: number) => {
      const p = byText.get(text);
      if (!p) return;
      p.arrivals++;
      p.deliveredAt = Math.min(p.deliveredAt ?? Number.POSITIVE_INFINITY, at);
    };
    const w = this.where;
    for (const e of w.observer.events(w.mark))
      if (e.roomId === w.roomId && e.type === "m.room.message" && e.sender === w.ghost)
        arrive(String(e.content?.body ?? ""), e.seenAt);
    for (const c of this.state.control.calls())
      if (
        c.seq > w.sinceSeq &&
        c.method === "chat.postMessage" &&
        c.response.ok &&
        c.params.channel === w.channelId
      )
        arrive(flattenSlackMessage(c.params).text.trim(), c.receivedAt);
    // A probe not there two budgets after it was sent is lost, not late.
    const settledAt = now() - 2 * Math.max(...Object.values(this.budgetMs));
    return this.probes.every(
      (p) => p.deliveredAt !== undefined || p.sendError !== undefined || p.sentAt < settledAt,
    );
  }
}

const runs = new WeakMap<ScenarioState, ProbeRun>();

const probeStart: Impl = async (ctx, a: ProbeArgs) => {
  const { state } = ctx;
  const earlier = runs.get(state);
  if (earlier && earlier.stoppedAt === undefined)
    throw new Error("probes are already running in this scenario (end them with expect.availability)");
  const who = state.observer(a.user);
  const roomId = await state.portalRoom(a.channel, who, ctx.timeoutMs);
  const observer = await state.user(who);
  const slackUser = state.slackUserId(a.slack_user);
  const run = new ProbeRun(
    state,
    {
      roomId,
      channelId: state.channelId(a.channel),
      slackUser,
      ghost: state.ghostMxid(slackUser),
      observer,
      mark: observer.mark(),
      sinceSeq: state.control.calls().length,
    },
    {
      stepId: ctx.stepId,
      everyMs: a.every ?? DEFAULT_EVERY_MS,
      budgetMs: {
        slack_to_matrix: ctx.budgetMs("slack_to_matrix"),
        matrix_to_slack: ctx.budgetMs("matrix_to_slack"),
      },
    },
  );
  runs.set(state, run);
  state.background.add(run);
  run.start();
  ctx.details.everyMs = run.everyMs;
  ctx.details.budgetMs = run.budgetMs;
};

const expectAvailability: Impl = async (ctx, a: { min?: string; max_recovery?: number }) => {
  const { state } = ctx;
  const run = runs.get(state);
  if (!run)
    throw new Error("no availability probes in this scenario: start them with a probe.start step first");
  // One more round when the last fault ended after the last probe, so its recovery is measured.
  const lastEnd = Math.max(0, ...state.faultWindows.map((w) => w.endAt ?? 0));
  if (lastEnd > Math.max(...run.probes.map((p) => p.sentAt))) run.tick();
  run.stop();
  state.background.delete(run);
  // Probes sent last may still be travelling (or being retried while a service is away).
  await waitUntil(() => run.collect() || undefined, {
    timeoutMs: Math.min(ctx.timeoutMs, 2 * Math.max(...Object.values(run.budgetMs))),
    intervalMs: 250,
    describe: () => "every probe to arrive",
  }).catch(() => undefined);
  await run.settleSends();
  run.collect();
  const result = computeAvailability({
    stepId: run.stepId,
    everyMs: run.everyMs,
    budgetMs: run.budgetMs,
    startAt: run.startAt,
    endAt: run.stoppedAt ?? now(),
    probes: run.probes.map(({ direction, n, sentAt, deliveredAt, arrivals }) => ({
      direction,
      n,
      sentAt,
      arrivals,
      ...(deliveredAt === undefined ? {} : { deliveredAt }),
    })),
    faults: state.faultWindows,
    min: a.min === undefined ? undefined : parsePercent(a.min),
  });
  state.availability = result;
  ctx.details.availability = formatPercent(result.availability);
  ctx.details.probes = result.directions;
  ctx.details.recovery = result.recovery.map((r) => ({
    fault: r.stepId,
    direction: r.direction,
    recoveryMs: r.recoveryMs === null ? null : Math.round(r.recoveryMs),
  }));
  // Put down to a known problem: said in the details, so every report shows which and why.
  const excused = run.probes.flatMap((p) => {
    const known = knownProblemOf(p, state.faultWindows);
    return known ? [`${p.text}: ${probeProblem(p)} during ${known.fault.stepId} (${known.reason})`] : [];
  });
  if (excused.length) ctx.details.knownProblemProbes = excused.slice(0, 10);
  const problems = availabilityProblems(result, { maxRecoveryMs: a.max_recovery });
  if (!problems.length) return;
  ctx.details.lostProbes = await lossEvidence(state, run);
  throw new Error(problems.join("; "));
};

/** For each probe that never arrived (or arrived twice): what the fake and the bridge saw of it. */
async function lossEvidence(state: ScenarioState, run: ProbeRun): Promise<Record<string, unknown>[]> {
  const bad = run.probes.filter((p) => p.deliveredAt === undefined || p.arrivals > 1).slice(0, 10);
  return Promise.all(
    bad.map(async (p) => ({
      probe: p.text,
      sentAt: new Date(p.sentAt).toISOString(),
      arrivals: p.arrivals,
      duringFault: state.faultOverlapping(p.sentAt, p.deliveredAt ?? now()) ?? null,
      ...(p.sendError ? { sendError: p.sendError } : {}),
      evidence:
        p.ref === undefined
          ? []
          : p.direction === "slack_to_matrix"
            ? await slackMessageEvidence(state, p.ref)
            : await matrixMessageEvidence(state, p.ref),
      bridgeWarnings: await bridgeWarnings(state.env, p.sentAt - 1_000),
    })),
  );
}

export const PROBE_IMPLEMENTATIONS: Record<string, Impl> = {
  "probe.start": probeStart,
  "expect.availability": expectAvailability,
};
