// Steps about how Matrix users authenticate: the authentication service in front of the homeserver
// (matrix-authentication-service) going away and coming back, new logins, and what happens to
// sessions that already exist. In the scenario validator's format (src/config/steps.ts
// StepTypeSpec); pure data, the implementations are in steps.ts.
import type { FieldSpec } from "../config/fields.ts";
import type { StepTypeSpec } from "../config/steps.ts";
import { formatDuration, parseDuration } from "../config/units.ts";

const duration = (value: unknown) => formatDuration(parseDuration(value) ?? 0);

const user: FieldSpec = {
  type: "string",
  ref: "matrixUser",
  required: true,
  doc: "Matrix user (from matrix.users)",
};

export const AUTH_STEP_TYPES: Record<string, StepTypeSpec> = {
  "auth.stop": {
    doc: "Stops the environment's authentication service (matrix-authentication-service; its database stays). The homeserver, the bridge and existing sessions keep running without it. Fails in environments without one.",
    fields: {},
    example: {},
  },
  "auth.start": {
    doc: "Starts the authentication service again and waits until its health check answers.",
    fields: {},
    example: {},
  },
  "auth.config_change": {
    doc: "Restarts the authentication service on its config with `config` merged over the environment's own (stacking on earlier changes), after `config check` accepts it. Users, sessions and its database stay: later steps check what still works.",
    fields: {
      config: {
        type: "any",
        required: true,
        doc: "a MAS config overlay, e.g. { passwords: { schemes: [...] } }",
      },
    },
    example: { config: { passwords: { minimum_complexity: 2 } } },
  },
  "auth.config_revert": {
    doc: "Restarts the authentication service on the environment's own config again (drops every auth.config_change).",
    fields: {},
    example: {},
  },
  "matrix.login": {
    doc: "A new password login of a registered Matrix user, the way clients log in to this deployment (with MAS: through the reverse proxy to MAS's compatibility layer). `expect: fails` asserts it is refused, and reports the error clients see.",
    fields: {
      user,
      expect: {
        type: "string",
        enum: ["works", "fails"],
        doc: "the login must succeed (default) or fail",
      },
    },
    example: { user: "alice", expect: "fails" },
  },
  "expect.session": {
    doc: "The user's existing access token (from before, e.g. an authentication outage): with `works: true` (default) every check during `for` must succeed; with `works: false` a check must fail within `within`. Reports how long the session kept working (`workedMs`), checking once a second with /account/whoami.",
    fields: {
      user,
      works: { type: "boolean", doc: "the session must keep working (default true) or stop working" },
      for: { type: "duration", doc: "with works: true, how long it must keep working (default: one check)" },
      within: {
        type: "duration",
        doc: "with works: false, how long it may take to stop working (default 30s)",
      },
    },
    example: { user: "alice", works: true, for: "10s" },
  },
};

export function describeAuthStep(type: string, a: Record<string, any>): string | undefined {
  switch (type) {
    case "auth.stop":
      return "stop the authentication service";
    case "auth.start":
      return "start the authentication service";
    case "auth.config_change":
      return `change the authentication service's config (${Object.keys(a.config ?? {}).join(", ")})`;
    case "auth.config_revert":
      return "return the authentication service to its own config";
    case "matrix.login":
      return `${a.user} logs in with a password${a.expect === "fails" ? " (must fail)" : ""}`;
    case "expect.session":
      return a.works === false
        ? `${a.user}'s session stops working${a.within ? ` within ${duration(a.within)}` : ""}`
        : `${a.user}'s session keeps working${a.for ? ` for ${duration(a.for)}` : ""}`;
    default:
      return undefined;
  }
}
