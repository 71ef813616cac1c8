// Synapse with matrix-authentication-service: the two halves of the pairing (Synapse's
// matrix_authentication_service block, MAS's `matrix` section), the legacy msc3861 block, options
// Synapse refuses under MAS, and bridge encryption (which needs MSC4190 there).
import { isPlainObject } from "../../util/deep-merge.ts";
import {
  atLeast,
  type CheckContext,
  type CheckGroup,
  envAt,
  homeserverServerName,
  imageRelease,
  quote,
  ref,
  urlParts,
} from "../context.ts";

/** Synapse options that make it refuse to start while MAS is enabled (synapse/config/mas.py). */
const CONFLICTS: { path: string[]; bad: (v: unknown) => boolean }[] = [
  { path: ["enable_registration"], bad: (v) => v === true },
  { path: ["password_config", "enabled"], bad: (v) => v === true || v === "only_for_reauth" },
  { path: ["enable_registration_captcha"], bad: (v) => v === true },
  { path: ["refresh_token_lifetime"], bad: (v) => v !== undefined && v !== null },
  { path: ["nonrefreshable_access_token_lifetime"], bad: (v) => v !== undefined && v !== null },
  { path: ["session_lifetime"], bad: (v) => v !== undefined && v !== null },
  { path: ["password_providers"], bad: (v) => Array.isArray(v) && v.length > 0 },
  { path: ["oidc_providers"], bad: (v) => Array.isArray(v) && v.length > 0 },
  { path: ["user_consent"], bad: (v) => isPlainObject(v) },
];

export const masChecks: CheckGroup = {
  subject: "mas",
  checks: [
    {
      id: "mas.msc3861-removed",
      severity: "error",
      catches: "Synapse's `experimental_features.msc3861` block (the legacy way to delegate auth to MAS)",
      why: "Synapse 1.157.0 removed it. Run for real (Synapse 1.163.2): it exits with code 1 at start, \"Error in configuration at 'experimental.msc3861': experimental_features.msc3861 was removed. Use the matrix_authentication_service configuration instead.\" Before 1.157.0 it is deprecated (warning).",
      fix: "Replace it with `matrix_authentication_service: {enabled: true, endpoint: <MAS URL>, secret: <shared secret>}` (Synapse >= 1.136.0); the old admin_token becomes the secret.",
      evidence:
        "examples/operator-repo/mistakes/msc3861-on-synapse-1.163/consequence.yaml (Synapse 1.163.2 exits 1 at start), run by npm test",
    },
    {
      id: "mas.synapse-not-delegating",
      severity: "error",
      catches: "the environment runs MAS but Synapse's `matrix_authentication_service.enabled` is not true",
      why: "Synapse then keeps its own login and never asks MAS: tokens MAS issues are unknown to Synapse (401 M_UNKNOWN_TOKEN) and MAS cannot provision users.",
      fix: "Add `matrix_authentication_service: {enabled: true, endpoint: <MAS URL>, secret: <same as MAS matrix.secret>}`.",
    },
    {
      id: "mas.secret-mismatch",
      severity: "error",
      catches: "Synapse's `matrix_authentication_service.secret` differs from MAS's `matrix.secret`",
      why: "Each side authenticates to the other with this shared secret: MAS cannot provision users or devices on Synapse, and Synapse's token introspection at MAS fails, so every client request is refused.",
      fix: "Use the same value in both files (or the same file through `secret_path` / `secret_file`).",
    },
    {
      id: "mas.endpoint-mismatch",
      severity: "error",
      catches: "Synapse's `matrix_authentication_service.endpoint` does not point at a port MAS listens on",
      why: "Synapse introspects every access token at `<endpoint>/oauth2/introspect`: nothing answering there means every authenticated request fails.",
      fix: "Point the endpoint at MAS's HTTP listener (`http.listeners[].binds[].address` in the MAS config, e.g. http://mas:8080/).",
    },
    {
      id: "mas.homeserver-endpoint-mismatch",
      severity: "error",
      catches: "MAS's `matrix.endpoint` does not point at a port Synapse listens on",
      why: "MAS provisions users and devices through Synapse's `/_synapse/mas/*` API at that endpoint: registration and login through MAS fail with 'Could not create the device on the homeserver'.",
      fix: "Point `matrix.endpoint` at a Synapse HTTP listener with the client resource (e.g. http://synapse:8008/).",
    },
    {
      id: "mas.server-name-mismatch",
      severity: "error",
      catches: "MAS's `matrix.homeserver` differs from Synapse's `server_name`",
      why: "MAS builds Matrix IDs as @user:<matrix.homeserver>; Synapse rejects users of another server name, so provisioning fails.",
      fix: "Set `matrix.homeserver` to Synapse's server_name.",
    },
    {
      id: "mas.synapse-option-conflict",
      severity: "error",
      catches:
        "a Synapse option that cannot be on while MAS handles authentication (registration, password login, CAPTCHA, SSO, token lifetimes, consent)",
      why: 'Synapse refuses to start (synapse/config/mas.py). Run for real (Synapse 1.163.2 with the MAS block and `enable_registration: true`): exit code 1, "Error in configuration at \'enable_registration\': Registration cannot be enabled when OAuth delegation is enabled"; likewise "Password auth cannot be enabled when OAuth delegation is enabled".',
      fix: "Remove the option (or set it false): MAS owns registration, passwords and sessions.",
    },
    {
      id: "mas.bridge-encryption-without-msc4190",
      severity: "error",
      catches:
        "bridge encryption (`encryption.allow` or `default`) under MAS without `encryption.msc4190: true`",
      why: "An encrypting bridge logs its bot in with `/login` (m.login.application_service), which Synapse does not serve when MAS handles logins; without MSC4190 (appservice device management, which Synapse forces on under MAS since 1.139) the bridge cannot create its device and encryption fails at start.",
      fix: "Set `encryption.msc4190: true` (and regenerate the registration, which then carries `io.element.msc4190: true`), or turn encryption off (`encryption.allow: false`).",
      evidence:
        'examples/operator-repo/mistakes/encryption-under-mas/consequence.yaml and scenarios/mas-encryption-without-msc4190.yaml (the bridge exits: "homeserver does not support appservice login"); scenarios/mas-encryption.yaml passes with MSC4190, all run by npm test',
    },
    {
      id: "mas.bridge-encryption",
      severity: "warning",
      catches: "bridge encryption under MAS (even with MSC4190)",
      why: "Reported broken in 2026 (matrix-authentication-service#3206: /sync with org.matrix.msc3202.device_id fails with 500 on Synapse 1.153 with mautrix 26.05); MAS's own docs advise turning bridge encryption off.",
      fix: "Run the bridge with `encryption.allow: false` unless you have tested encryption on exactly these versions.",
    },
  ],
  run(ctx) {
    if (ctx.env.homeserver.kind !== "synapse") return;
    checkMsc3861(ctx);
    const usesMas =
      Boolean(ctx.env.homeserver.auth) ||
      isPlainObject(ctx.homeserver.get(["matrix_authentication_service"]));
    if (!usesMas) return;
    const f = ctx.findings;
    const block = ctx.homeserver.at<Record<string, unknown>>(["matrix_authentication_service"]);
    const enabled = ctx.homeserver.at(["matrix_authentication_service", "enabled"]);
    if (
      ctx.env.homeserver.auth &&
      enabled?.value !== true &&
      !ctx.homeserver.get(["experimental_features", "msc3861"])
    )
      f.add(
        "mas.synapse-not-delegating",
        enabled ?? block ?? ctx.homeserver.fallback() ?? envAt(ctx, ["homeserver", "auth"]),
        enabled
          ? `matrix_authentication_service.enabled is ${quote(enabled.value)}`
          : "Synapse has no matrix_authentication_service block",
      );
    if (enabled?.value === true) {
      for (const c of CONFLICTS) {
        const v = ctx.homeserver.at(c.path);
        if (v && c.bad(v.value))
          f.add("mas.synapse-option-conflict", v, `${c.path.join(".")} is set while MAS is enabled`);
      }
    }
    if (ctx.mas) comparePairing(ctx);
    checkBridgeEncryption(ctx);
  },
};

function checkMsc3861(ctx: CheckContext): void {
  const legacy = ctx.homeserver.at(["experimental_features", "msc3861"]);
  if (!legacy || !isPlainObject(legacy.value) || Object.keys(legacy.value).length === 0) return;
  const release = imageRelease(ctx.env.homeserver.image);
  const fatal = !release || atLeast(release, "v1.157.0");
  ctx.findings.add(
    "mas.msc3861-removed",
    legacy,
    fatal
      ? `experimental_features.msc3861 is set: Synapse ${release ?? "(this image)"} refuses to start on it`
      : `experimental_features.msc3861 is set: deprecated in Synapse ${release}, fatal from 1.157.0`,
    { severity: fatal ? "error" : "warning" },
  );
}

function comparePairing(ctx: CheckContext): void {
  const f = ctx.findings;
  const mas = ctx.mas!;
  const synapseSecret = ctx.homeserver.at(["matrix_authentication_service", "secret"]);
  const masSecret = mas.at(["matrix", "secret"]);
  // Secrets: report that they differ, never their values.
  if (synapseSecret && masSecret && synapseSecret.value !== masSecret.value)
    f.add(
      "mas.secret-mismatch",
      synapseSecret,
      `matrix_authentication_service.secret differs from matrix.secret in ${ref(masSecret)}`,
    );

  const endpoint = ctx.homeserver.at(["matrix_authentication_service", "endpoint"]);
  const masPorts = listenerPorts(mas.get(["http", "listeners"]), (l) =>
    Array.isArray(l.binds) ? l.binds : [],
  );
  const ep = urlParts(endpoint?.value);
  if (endpoint && ep && masPorts.length && !masPorts.includes(ep.port))
    f.add(
      "mas.endpoint-mismatch",
      endpoint,
      `endpoint ${String(endpoint.value)} uses port ${ep.port}; MAS listens on ${masPorts.join(", ")}`,
    );

  const hsEndpoint = mas.at(["matrix", "endpoint"]);
  const synapsePorts = listenerPorts(ctx.homeserver.get(["listeners"]), (l) => [{ port: l.port }]);
  const hp = urlParts(hsEndpoint?.value);
  if (hsEndpoint && hp && synapsePorts.length && !synapsePorts.includes(hp.port))
    f.add(
      "mas.homeserver-endpoint-mismatch",
      hsEndpoint,
      `matrix.endpoint ${String(hsEndpoint.value)} uses port ${hp.port}; Synapse listens on ${synapsePorts.join(", ")}`,
    );

  const masServer = mas.at(["matrix", "homeserver"]);
  const server = homeserverServerName(ctx) ?? ctx.env.homeserver.serverName;
  if (masServer && server && masServer.value !== server)
    f.add(
      "mas.server-name-mismatch",
      masServer,
      `matrix.homeserver is ${quote(masServer.value)}, Synapse's server_name is "${server}"`,
    );
}

/** Ports of a listener list; `binds` gives each listener's `{address}` or `{port}` entries. */
function listenerPorts(listeners: unknown, binds: (l: Record<string, any>) => unknown[]): number[] {
  if (!Array.isArray(listeners)) return [];
  const ports: number[] = [];
  for (const l of listeners) {
    if (!isPlainObject(l)) continue;
    for (const b of binds(l)) {
      if (!isPlainObject(b)) continue;
      if (typeof b.port === "number") ports.push(b.port);
      else if (typeof b.address === "string") {
        const m = /:(\d+)$/.exec(b.address);
        if (m) ports.push(Number(m[1]));
      }
    }
  }
  return ports;
}

function checkBridgeEncryption(ctx: CheckContext): void {
  const allow = ctx.bridge.at(["encryption", "allow"]);
  const dflt = ctx.bridge.at(["encryption", "default"]);
  const on = [allow, dflt].find((x) => x?.value === true);
  if (!on) return;
  const msc4190 = ctx.bridge.get(["encryption", "msc4190"]) === true;
  ctx.findings.add(
    msc4190 ? "mas.bridge-encryption" : "mas.bridge-encryption-without-msc4190",
    on,
    `encryption.${on === allow ? "allow" : "default"} is true${msc4190 ? " (with msc4190)" : " without encryption.msc4190: true"} while MAS handles logins`,
  );
}
