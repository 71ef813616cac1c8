// The bridge config on its own and against the homeserver: values the bridge refuses to start with
// (exit code 11), and the Matrix domain it serves.
import { type CheckGroup, homeserverServerName } from "../context.ts";

/** Keys mautrix's validateConfig() rejects while they hold the example config's value. */
const EXAMPLE_VALUES: { path: string[]; value: string }[] = [
  { path: ["homeserver", "address"], value: "http://example.localhost:8008" },
  { path: ["homeserver", "domain"], value: "example.com" },
  { path: ["appservice", "as_token"], value: "This value is generated when generating the registration" },
  { path: ["appservice", "hs_token"], value: "This value is generated when generating the registration" },
];

export const bridgeChecks: CheckGroup = {
  subject: "bridge",
  checks: [
    {
      id: "bridge.unconfigured",
      severity: "error",
      catches:
        "a bridge key still holds the example config's value (homeserver address or domain, tokens), or `appservice.username_template` lacks `{{.}}`",
      why: 'mautrix bridges validate these at start and exit with code 11 ("homeserver.domain not configured", "appservice.as_token not configured. Did you forget to generate the registration?"). Run for real (mautrix-slack v0.2.0, `username_template: slack_user`): exit code 11, `FTL Configuration error error="username template is missing user ID placeholder"`.',
      fix: "Set the value for this deployment; tokens come from generating the registration (`-g`).",
    },
    {
      id: "bridge.domain-mismatch",
      severity: "error",
      catches: "the bridge's `homeserver.domain` differs from the homeserver's `server_name`",
      why: "The bridge builds its bot and ghost IDs on homeserver.domain: the homeserver answers whoami with another server's ID (exit code 17) or refuses to register users outside its own domain (exit code 16).",
      fix: "Set `homeserver.domain` to the homeserver's server_name (and regenerate the registration: its namespaces contain the domain).",
    },
  ],
  run(ctx) {
    const f = ctx.findings;
    for (const e of EXAMPLE_VALUES) {
      const at = ctx.bridge.at(e.path);
      if (at?.value === e.value)
        f.add("bridge.unconfigured", at, `${e.path.join(".")} is the example config's value`);
    }
    const template = ctx.bridge.at(["appservice", "username_template"]);
    if (template && typeof template.value === "string" && !template.value.includes("{{.}}"))
      f.add("bridge.unconfigured", template, `appservice.username_template "${template.value}" has no {{.}}`);

    const domain = ctx.bridge.at(["homeserver", "domain"]);
    const server = homeserverServerName(ctx);
    if (domain && server && domain.value !== server && domain.value !== "example.com")
      f.add(
        "bridge.domain-mismatch",
        domain,
        `homeserver.domain is "${String(domain.value)}", the homeserver's server_name is "${server}"`,
      );
  },
};
