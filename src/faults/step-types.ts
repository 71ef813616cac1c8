// The fault and availability step vocabulary, in the scenario validator's format
// (src/config/steps.ts StepTypeSpec). Pure data: the implementations are in steps.ts and probes.ts.
import type { FieldSpec } from "../config/fields.ts";
import type { StepTypeSpec } from "../config/steps.ts";

export const FAULT_SERVICES = ["bridge", "homeserver", "postgres"] as const;
export type FaultService = (typeof FAULT_SERVICES)[number];
export const DISCONNECT_REASONS = [
  "warning",
  "refresh_requested",
  "link_disabled",
  "too_many_websockets",
] as const;

const window = (what: string): FieldSpec => ({
  type: "duration",
  required: true,
  doc: `how long ${what} lasts`,
});
const service: FieldSpec = {
  type: "string",
  enum: FAULT_SERVICES,
  required: true,
  doc: "which service",
};
const methods: FieldSpec = {
  type: "list",
  items: {
    type: "string",
    pattern: /^(\*|[a-z]+(\.[A-Za-z]+)+)$/,
    patternHint: 'a Web API method ("chat.postMessage") or "*"',
    doc: "method",
  },
  doc: 'Web API methods it hits (default ["*"]: all)',
};
const user: FieldSpec = {
  type: "string",
  ref: "matrixUser",
  doc: "logged-in Matrix user whose bridge login must be CONNECTED again after the fault (default: the first logged-in user)",
};

/**
 * `during:` — traffic steps started with the fault (which begins a quarter into them, at most 1 s); each checks its
 * messages (all delivered once, in order) after the recovery. Built from the traffic steps' own
 * specs, so the same fields are validated the same way.
 */
function during(traffic: Record<string, StepTypeSpec>): FieldSpec {
  return {
    type: "list",
    doc: `traffic sent while the fault is on (${Object.keys(traffic).join(", ")}); the fault starts a quarter into the longest (at most 1 s in), so make it outlast the fault; checked after the recovery: every message delivered exactly once and in order, latency reported apart and not held to the budget`,
    items: {
      type: "object",
      oneKey: true,
      doc: "one traffic step",
      fields: Object.fromEntries(
        Object.entries(traffic).map(([type, spec]) => [
          type,
          { type: "object", fields: spec.fields, doc: spec.doc } satisfies FieldSpec,
        ]),
      ),
    },
  };
}

/** The fault family; `traffic` are the step types a fault's `during:` list may hold. */
export function faultStepTypes(traffic: Record<string, StepTypeSpec>): Record<string, StepTypeSpec> {
  const common = { during: during(traffic), user };
  return {
    "fault.kill": {
      doc: "Kills a service's containers with SIGKILL, leaves it down for `down_for`, then starts it again (same data) and waits until the bridge is healthy and the login CONNECTED again.",
      fields: {
        service,
        down_for: { type: "duration", doc: "how long it stays down before it is started again (default 0)" },
        at: {
          type: "string",
          enum: ["slack_ack"],
          doc: "kill it the moment the bridge acks a Slack message of the `during:` traffic (default: a quarter into the traffic, at most 1 s)",
        },
        ...common,
      },
      example: {
        service: "bridge",
        during: [{ "slack.traffic": { user: "bob", channel: "#dev-platform", count: 10, per_second: 2 } }],
      },
    },
    "fault.restart": {
      doc: "Restarts a service the orderly way (stop, then start on the same data), as a deploy or a reboot does, and waits for the recovery; the restart is the fault's window.",
      fields: { service, ...common },
      example: { service: "postgres" },
    },
    "fault.pause": {
      doc: "Freezes a service's containers (docker pause) for a while, then thaws them and waits for the recovery.",
      fields: { service, for: window("the freeze"), ...common },
      example: { service: "postgres", for: "3s" },
    },
    "fault.partition": {
      doc: "Cuts a service off the run's network (the others and the harness cannot reach it, nor it them) for a while, then reconnects it under the same names and waits for the recovery.",
      fields: { service, for: window("the partition"), ...common },
      example: { service: "homeserver", for: "3s" },
    },
    "fault.slack.disconnect": {
      doc: "Slack sends `disconnect` frames with a reason on the bridge's Socket Mode connections (`count` times, `every` apart), as it does before maintenance or when a connection limit is hit; ends when the bridge is connected again.",
      fields: {
        reason: {
          type: "string",
          enum: DISCONNECT_REASONS,
          doc: "the frame's reason (default refresh_requested)",
        },
        count: { type: "integer", min: 1, doc: "how many disconnects (default 1)" },
        every: { type: "duration", doc: "time between them (default 2s)" },
        ...common,
      },
      example: { reason: "link_disabled", count: 2 },
    },
    "fault.slack.refresh": {
      doc: "Slack refreshes every Socket Mode connection `every` after it opened, for a window: with `warning`, as in production at approximate_connection_time (a `warning` frame, `refresh_requested` that long after); without, a storm of bare `refresh_requested`.",
      fields: {
        every: { type: "duration", required: true, doc: "connection lifetime" },
        for: window("the refreshing"),
        warning: {
          type: "duration",
          doc: "time between the warning and refresh_requested (default: no warning)",
        },
        ...common,
      },
      example: { every: "5s", for: "30s" },
    },
    "fault.slack.rate_limit": {
      doc: "Slack answers Web API calls with HTTP 429 and Retry-After, for a window.",
      fields: {
        methods,
        retry_after: { type: "duration", doc: "the Retry-After header, whole seconds (default 1s)" },
        for: window("the rate limiting"),
        ...common,
      },
      example: { methods: ["chat.postMessage"], retry_after: "2s", for: "5s" },
    },
    "fault.slack.outage": {
      doc: "A Web API outage: calls get an HTTP 5xx (`status`), or with `timeout: true` no answer until the outage ends (then 504).",
      fields: {
        methods,
        status: { type: "integer", min: 500, doc: "HTTP status of the answers (default 503)" },
        timeout: { type: "boolean", doc: "hold calls without an answer instead (default false)" },
        for: window("the outage"),
        ...common,
      },
      example: { methods: ["*"], status: 503, for: "5s" },
    },
    "fault.slack.slow_responses": {
      doc: "Slack answers Web API calls late, for a window.",
      fields: {
        methods,
        delay: { type: "duration", required: true, doc: "added to every answer" },
        for: window("the slowness"),
        ...common,
      },
      example: { methods: ["chat.postMessage"], delay: "3s", for: "10s" },
    },
    "fault.slack.slow_envelopes": {
      doc: "Slack writes Socket Mode envelopes late, for a window.",
      fields: {
        delay: { type: "duration", required: true, doc: "added before every envelope" },
        for: window("the slowness"),
        ...common,
      },
      example: { delay: "3s", for: "10s" },
    },
    "fault.slack.drop_acks": {
      doc: "Slack ignores the bridge's envelope acks for a window, so it redelivers those events (retry_attempt set, after its ack timeout); each must still be bridged once.",
      fields: { for: window("the dropping"), ...common },
      example: { for: "5s" },
    },
    "fault.slack.revoke_token": {
      doc: "Revokes the app's bot token (or app-level token, or both) for a window; then Slack issues new ones (the app reinstalled, the app-level token regenerated). A `login` step afterwards hands them to the bridge.",
      fields: {
        token: { type: "string", enum: ["bot", "app", "both"], doc: "which token (default bot)" },
        for: window("the revocation"),
        during: during(traffic),
      },
      example: { token: "bot", for: "5s" },
    },
    "fault.slack.no_pings": {
      doc: "Slack stops sending Socket Mode PINGs for a window (the bridge's client reconnects after 30 s without one).",
      fields: { for: window("the silence"), ...common },
      example: { for: "35s" },
    },
    "probe.start": {
      doc: "Starts availability probes: every `every`, a Slack user posts one message and a Matrix user sends one, until expect.availability. A probe is available when it arrives within the budget (the step's `budget:`, else the scenario's).",
      fields: {
        channel: {
          type: "string",
          ref: "channel",
          required: true,
          doc: "Slack channel whose portal carries the probes",
        },
        slack_user: {
          type: "string",
          ref: "slackUser",
          required: true,
          doc: "Slack user who posts the Slack probes",
        },
        user: {
          type: "string",
          ref: "matrixUser",
          doc: "Matrix user who sends the Matrix probes and sees the Slack ones (default: the first of matrix.users)",
        },
        every: { type: "duration", doc: "time between probes (default 5s)" },
      },
      example: { channel: "#dev-platform", slack_user: "bob", every: "5s" },
    },
    "expect.availability": {
      doc: "Stops the probes, waits for the ones still travelling (a probe not there two budgets after it was sent is lost), and reports availability (share of probes delivered within the budget) and the recovery after each fault (fault end -> first probe within budget). Fails when a probe was lost or duplicated, when availability is under `min`, or a recovery took longer than `max_recovery`.",
      fields: {
        min: {
          type: "string",
          pattern: /^\d+(\.\d+)?%$/,
          patternHint: 'a percentage like "99%"',
          doc: 'lowest acceptable availability ("99%")',
        },
        max_recovery: { type: "duration", doc: "longest acceptable recovery after any fault, each way" },
      },
      example: { min: "99%", max_recovery: "30s" },
    },
  };
}

/** One-line title of a fault or availability step for reports; undefined for other step types. */
export function describeFaultStep(type: string, a: Record<string, any>): string | undefined {
  const d = (ms: unknown) => (typeof ms === "number" ? `${ms / 1000} s` : String(ms));
  const traffic = a.during?.length ? ` with ${a.during.length} traffic step(s) alongside` : "";
  const hits = (m?: string[]) => (m?.length && !m.includes("*") ? m.join(", ") : "every Web API method");
  const title = (() => {
    switch (type) {
      case "fault.kill":
        return `kill the ${a.service} (SIGKILL)${a.at === "slack_ack" ? " as it acks a Slack message" : ""}${a.down_for ? `, down for ${d(a.down_for)}` : ""}, start it again`;
      case "fault.restart":
        return `restart the ${a.service}`;
      case "fault.pause":
        return `freeze the ${a.service} for ${d(a.for)}`;
      case "fault.partition":
        return `cut the ${a.service} off the network for ${d(a.for)}`;
      case "fault.slack.disconnect":
        return `Slack disconnects the socket (${a.reason ?? "refresh_requested"})${(a.count ?? 1) > 1 ? ` ${a.count} times` : ""}`;
      case "fault.slack.refresh":
        return `Slack refreshes sockets every ${d(a.every)}${a.warning ? ` (warning ${d(a.warning)} before)` : ""} for ${d(a.for)}`;
      case "fault.slack.rate_limit":
        return `Slack rate-limits ${hits(a.methods)} for ${d(a.for)}`;
      case "fault.slack.outage":
        return `Slack Web API outage (${a.timeout ? "no answers" : `HTTP ${a.status ?? 503}`}) on ${hits(a.methods)} for ${d(a.for)}`;
      case "fault.slack.slow_responses":
        return `Slack answers ${hits(a.methods)} ${d(a.delay)} late for ${d(a.for)}`;
      case "fault.slack.slow_envelopes":
        return `Slack delivers envelopes ${d(a.delay)} late for ${d(a.for)}`;
      case "fault.slack.drop_acks":
        return `Slack drops every envelope ack for ${d(a.for)}`;
      case "fault.slack.revoke_token":
        return `Slack revokes the ${a.token === "both" ? "bot and app" : (a.token ?? "bot")} token${a.token === "both" ? "s" : ""} for ${d(a.for)}, then issues new ones`;
      case "fault.slack.no_pings":
        return `Slack sends no pings for ${d(a.for)}`;
      case "probe.start":
        return `probes every ${d(a.every ?? 5000)} both ways in ${a.channel}`;
      case "expect.availability":
        return `availability${a.min ? ` >= ${a.min}` : ""}${a.max_recovery ? `, recovery <= ${d(a.max_recovery)}` : ""}, nothing lost`;
      default:
        return undefined;
    }
  })();
  return title === undefined ? undefined : `${title}${traffic}`;
}
