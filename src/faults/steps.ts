// Fault steps: every one follows the same timeline —
//   traffic of `during:` starts -> a quarter into it (at most 1 s) the fault is injected -> it
//   holds (a window, or a count of disconnects) -> it is taken away -> the step waits until the
//   deployment is healthy again -> the traffic's own checks (each message once, in order) finish.
// The fault's window goes into the scenario's timeline; latency samples overlapping it are reported
// apart and not held to the budget (src/scenario/runner.ts).
import type { StartedEnvironment } from "../environment/api.ts";
import type { FaultWindow, StepResult } from "../report/model.ts";
import type { Step, StepContext } from "../scenario/steps.ts";
import { now } from "../util/clock.ts";
import { disconnectContainers, killContainers, pauseContainers, unpauseContainers } from "./containers.ts";
import { bridgeWarnings, matrixMessageEvidence, slackMessageEvidence } from "./evidence.ts";
import { PROBE_IMPLEMENTATIONS } from "./probes.ts";
import type { FaultService } from "./step-types.ts";

type Impl = (ctx: StepContext, args: any) => Promise<void>;

/**
 * The traffic of `during:` starts before the fault, so some is in flight when it hits: a quarter
 * of the way into the longest traffic step, at most this long.
 */
const TRAFFIC_LEAD_MS = 1_000;

function trafficLeadMs(during: CommonArgs["during"]): number {
  const seconds = (during ?? []).map((item) => {
    const args = Object.values(item)[0] as { count?: number; per_second?: number };
    return ((args.count ?? 1) - 1) / (args.per_second ?? 10);
  });
  return Math.min(TRAFFIC_LEAD_MS, (Math.max(0, ...seconds) * 1000) / 4);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What a fault step does between the traffic starting and the recovery check. */
interface Fault {
  /** "bridge", "homeserver", "postgres" or "slack". */
  target: string;
  /** Injects the fault and returns what takes it away again. */
  inject(): Promise<() => Promise<void>>;
  /** When to inject it once the traffic runs (default: a quarter into it, at most 1 s). */
  trigger?(trafficStartedAt: number): Promise<void>;
  /** How long it stays (default: the step's `for`). */
  hold?(): Promise<void>;
  /** Skip the health check at the end (the fault leaves the login to be redone by a later step). */
  noRecovery?: boolean;
}

interface CommonArgs {
  during?: Record<string, Record<string, unknown>>[];
  user?: string;
  for?: number;
}

async function runFault(ctx: StepContext, a: CommonArgs, fault: Fault): Promise<void> {
  const { state } = ctx;
  const holdMs = a.for ?? 0;
  const trafficStartedAt = now();
  const traffic = (a.during ?? []).map((item, i) => {
    const [type, args] = Object.entries(item)[0] as [string, Record<string, unknown>];
    // Its messages wait out the fault on top of the step's timeout (counted from the last send).
    const step: Step = { type, args, id: `${ctx.stepId}.${i + 1}-${type}`, timeout: ctx.timeoutMs + holdMs };
    const running = ctx.nested(step);
    running.catch(() => undefined);
    return running;
  });
  if (fault.trigger) await fault.trigger(trafficStartedAt);
  else if (traffic.length) await sleep(trafficLeadMs(a.during));

  const window: FaultWindow = {
    stepId: ctx.stepId,
    type: ctx.stepType,
    target: fault.target,
    title: ctx.title,
    startAt: now(),
  };
  state.faultWindows.push(window);
  let failure: unknown;
  try {
    const takeAway = await fault.inject();
    try {
      await (fault.hold ? fault.hold() : sleep(holdMs));
    } finally {
      await takeAway();
      window.endAt = now();
    }
    if (fault.target === "homeserver" || fault.target === "postgres") wakeMatrixClients(ctx);
    if (!fault.noRecovery) {
      const healthy = await ctx.nested({
        type: "wait.healthy",
        args: a.user ? { user: a.user } : {},
        id: `${ctx.stepId}.recovery`,
        // The step's own timeout (wait.healthy raises the default one to a minute).
        timeout: ctx.timeoutMs,
      });
      if (healthy.outcome === "failed") throw new Error(`no recovery after the fault: ${healthy.error}`);
      window.recoveredAt = now();
    }
  } catch (e) {
    failure = e;
  }
  // A fault that could not be set up or taken away still ends here: later samples are not in it.
  window.endAt ??= now();
  ctx.details.fault = {
    target: fault.target,
    injectedAt: new Date(window.startAt).toISOString(),
    lastedMs: Math.round(window.endAt - window.startAt),
    recoveryMs: window.recoveredAt === undefined ? null : Math.round(window.recoveredAt - window.endAt),
  };
  const results = await Promise.all(traffic);
  if (results.length) ctx.details.during = results.map(summary);
  if (failure) throw failure;
  const failed = results.filter((r) => r.outcome === "failed");
  if (failed.length) {
    const evidence = await lossEvidence(ctx, failed, window);
    ctx.details.evidence = evidence;
    throw new Error(
      `${failed.map((r) => `${r.id}: ${r.error}`).join("; ")} — evidence: ${evidence.slice(0, 4).join(" | ")}`,
    );
  }
}

/** For traffic that lost messages: what the fake and the bridge saw of each, and the bridge's complaints. */
async function lossEvidence(ctx: StepContext, failed: StepResult[], window: FaultWindow): Promise<string[]> {
  const out: string[] = [];
  for (const r of failed) {
    const missing = (r.details?.missing ?? []) as { n: number; ref?: string; text: string }[];
    for (const m of missing.slice(0, 5)) {
      if (!m.ref) continue;
      const seen =
        r.type === "slack.traffic"
          ? await slackMessageEvidence(ctx.state, m.ref)
          : await matrixMessageEvidence(ctx.state, m.ref);
      out.push(`"${m.text}": ${seen.join("; ")}`);
    }
  }
  const warnings = await bridgeWarnings(ctx.state.env, window.startAt - 1_000);
  return [...out, ...warnings.map((l) => `bridge: ${l}`)];
}

function summary(r: StepResult): Record<string, unknown> {
  return {
    id: r.id,
    title: r.title,
    outcome: r.outcome,
    ...(r.error ? { error: r.error } : {}),
    ...r.details,
  };
}

/** The harness's own Matrix clients back off while their homeserver is away: not the bridge's latency. */
function wakeMatrixClients(ctx: StepContext): void {
  for (const userP of ctx.state.session.users.values())
    userP.then((u) => u.reconnect()).catch(() => undefined);
}

// ---------------------------------------------------------------- services

/** A service as faults see it: its containers now, and how it is started again. */
function service(env: StartedEnvironment, name: FaultService) {
  const s = { bridge: env.bridge, homeserver: env.homeserver, postgres: env.postgres }[name];
  const ids = s.containerIds();
  if (!ids.length) throw new Error(`the ${name} has no running container to fault`);
  return { ids, restart: () => s.restart() };
}

const kill: Impl = (ctx, a: CommonArgs & { service: FaultService; down_for?: number; at?: "slack_ack" }) => {
  const svc = service(ctx.state.env, a.service);
  return runFault(
    ctx,
    { ...a, for: a.down_for ?? 0 },
    {
      target: a.service,
      ...(a.at === "slack_ack" ? { trigger: (since: number) => slackAck(ctx, since) } : {}),
      async inject() {
        await killContainers(svc.ids);
        return svc.restart;
      },
    },
  );
};

/** Resolves the moment the bridge acks an envelope of a Slack message posted since `since`. */
async function slackAck(ctx: StepContext, since: number): Promise<void> {
  await ctx.state.control.waitForEnvelope(
    (e) => e.eventType === "message" && !e.subtype && e.sentAt >= since && e.ackedAt !== undefined,
    { timeoutMs: ctx.timeoutMs, describe: "the bridge to ack a Slack message (traffic in `during:`)" },
  );
}

const restart: Impl = (ctx, a: CommonArgs & { service: FaultService }) => {
  const svc = service(ctx.state.env, a.service);
  return runFault(ctx, a, {
    target: a.service,
    async inject() {
      await svc.restart();
      return async () => {};
    },
  });
};

const pause: Impl = (ctx, a: CommonArgs & { service: FaultService }) => {
  const svc = service(ctx.state.env, a.service);
  return runFault(ctx, a, {
    target: a.service,
    async inject() {
      await pauseContainers(svc.ids);
      return () => unpauseContainers(svc.ids);
    },
  });
};

const partition: Impl = (ctx, a: CommonArgs & { service: FaultService }) => {
  const { env } = ctx.state;
  const svc = service(env, a.service);
  const network = env.network?.name;
  if (!network) throw new Error("this environment has no run network to partition");
  return runFault(ctx, a, {
    target: a.service,
    inject: () => disconnectContainers(svc.ids, network),
  });
};

// ---------------------------------------------------------------- Slack

const slackFault =
  (fault: (ctx: StepContext, a: any) => Omit<Fault, "target">): Impl =>
  (ctx, a) =>
    runFault(ctx, a, { target: "slack", ...fault(ctx, a) });

/** Sets a per-method fault on each of `methods` (default every method) and clears it at the end. */
function perMethod(
  methods: string[] | undefined,
  set: (method: string) => void,
  clear: (method: string) => void,
): () => Promise<() => Promise<void>> {
  const list = methods?.length ? methods : ["*"];
  return async () => {
    for (const m of list) set(m);
    return async () => {
      for (const m of list) clear(m);
    };
  };
}

const SLACK_FAULTS: Record<string, Impl> = {
  "fault.slack.disconnect": slackFault((ctx, a: { reason?: any; count?: number; every?: number }) => {
    const control = ctx.state.control;
    const count = a.count ?? 1;
    return {
      async inject() {
        control.disconnect(a.reason ?? "refresh_requested");
        return async () => {};
      },
      async hold() {
        for (let i = 1; i < count; i++) {
          await sleep(a.every ?? 2_000);
          control.disconnect(a.reason ?? "refresh_requested");
        }
      },
    };
  }),
  "fault.slack.refresh": slackFault((ctx, a: { every: number; warning?: number }) => {
    const control = ctx.state.control;
    return {
      async inject() {
        control.connectionLifetime(a.every, { warningMs: a.warning ?? 0 });
        return async () => control.connectionLifetime(undefined);
      },
    };
  }),
  "fault.slack.rate_limit": slackFault((ctx, a: { methods?: string[]; retry_after?: number }) => {
    const control = ctx.state.control;
    const retryAfterSeconds = Math.round((a.retry_after ?? 1_000) / 1000);
    return {
      inject: perMethod(
        a.methods,
        (m) => control.rateLimit(m, { calls: Number.POSITIVE_INFINITY, retryAfterSeconds }),
        (m) => control.rateLimit(m, { calls: 0, retryAfterSeconds }),
      ),
    };
  }),
  "fault.slack.outage": slackFault((ctx, a: { methods?: string[]; status?: number; timeout?: boolean }) => {
    const control = ctx.state.control;
    return {
      inject: perMethod(
        a.methods,
        (m) => control.outage(m, a.timeout ? "timeout" : { status: a.status ?? 503 }),
        (m) => control.outage(m, undefined),
      ),
    };
  }),
  "fault.slack.slow_responses": slackFault((ctx, a: { methods?: string[]; delay: number }) => {
    const control = ctx.state.control;
    return {
      inject: perMethod(
        a.methods,
        (m) => control.delayResponses(m, a.delay),
        (m) => control.delayResponses(m, 0),
      ),
    };
  }),
  "fault.slack.slow_envelopes": slackFault((ctx, a: { delay: number }) => {
    const control = ctx.state.control;
    return {
      async inject() {
        control.delayEnvelopes(a.delay);
        return async () => control.delayEnvelopes(0);
      },
    };
  }),
  "fault.slack.drop_acks": slackFault((ctx) => {
    const control = ctx.state.control;
    return {
      async inject() {
        control.dropAcks(Number.POSITIVE_INFINITY);
        return async () => control.dropAcks(0);
      },
    };
  }),
  "fault.slack.revoke_token": slackFault((ctx, a: { token?: "bot" | "app" | "both" }) => {
    const control = ctx.state.control;
    const app = ctx.state.workspace.apps[0];
    if (!app) throw new Error("the Slack workspace has no app");
    const kinds = a.token === "both" ? (["bot", "app"] as const) : ([a.token ?? "bot"] as const);
    return {
      async inject() {
        for (const kind of kinds) control.revokeToken(kind === "bot" ? app.botToken : app.appToken);
        // Slack issues new tokens (the app reinstalled, the app-level token regenerated).
        return async () => {
          for (const kind of kinds) await control.replaceToken(kind, app.appId);
        };
      },
      // The bridge holds revoked tokens until someone logs in with the new ones (a `login` step).
      noRecovery: true,
    };
  }),
  "fault.slack.no_pings": slackFault((ctx) => {
    const control = ctx.state.control;
    return {
      async inject() {
        control.suppressPings(true);
        return async () => control.suppressPings(false);
      },
    };
  }),
};

export const FAULT_IMPLEMENTATIONS: Record<string, Impl> = {
  "fault.kill": kill,
  "fault.restart": restart,
  "fault.pause": pause,
  "fault.partition": partition,
  ...SLACK_FAULTS,
  ...PROBE_IMPLEMENTATIONS,
};
