// Versions that do not fit together: the bridge image against the schema the production database
// already has (the rollback prediction of src/upgrade), and the homeserver's default room version
// against what the bridge's mautrix-go can create.
import { predictRollback } from "../../upgrade/predict.ts";
import type { DbSchemaState } from "../../upgrade/schema.ts";
import { compareReleases, findRelease } from "../../upgrade/schema-versions.ts";
import { atLeast, type CheckContext, type CheckGroup, envAt, imageRelease } from "../context.ts";

/**
 * Version rows a database has after `release` ran on it: each section at the release's latest
 * version and its compat. Crypto tables exist only when the bridge encrypts.
 */
function schemaAfterRelease(release: string, encryption: boolean): DbSchemaState {
  const rel = findRelease(release);
  const state: DbSchemaState = {};
  for (const [name, s] of Object.entries(rel.sections)) {
    if (name === "crypto" && !encryption) continue;
    if (s) state[name as keyof DbSchemaState] = { version: s.latest, compat: s.compat };
  }
  return state;
}

/** mautrix-go before v0.24.2 (mautrix-slack before v0.2.2) creates rooms in the server's default version with the creator in the power levels, which room version 12 forbids. */
const FIRST_BRIDGE_WITH_V12 = "v0.2.2";
/** Synapse releases whose DEFAULT_ROOM_VERSION was checked: "11" up to 1.157.1, "12" in 1.162.0 and 1.163.2. */
const SYNAPSE_V11_UNTIL = "v1.157.1";
const SYNAPSE_V12_FROM = "v1.162.0";

export const versionChecks: CheckGroup = {
  subject: "versions",
  checks: [
    {
      id: "versions.database-schema-refused",
      severity: "error",
      catches:
        "the bridge image is older than the schema the production bridge database already has (`production.bridge_release`)",
      why: 'A mautrix bridge refuses a database whose "compatible down to" version is newer than it knows: FATAL "unsupported database schema version", "Downgrading the bridge is not supported", exit code 15. The prediction is the one the bridge.rollback step checks against the real bridge (src/upgrade/predict.ts, docs/upgrades.md).',
      fix: "Run a release at least as new as the database's schema, or restore the database snapshot taken before the upgrade (the `bridge.rollback` step's `restore`). Rolling back with encryption on from v0.2605.0 or later to v0.2604.0 or earlier is not possible without a restore.",
      evidence: "scenarios/upgrade-rollback-without-restore.yaml, test/e2e/upgrade.test.ts (a refused start)",
    },
    {
      id: "versions.release-unknown",
      severity: "warning",
      catches: "no schema data for a bridge release the environment names",
      why: "The schema prediction needs the release's version tables (src/upgrade/schema-versions.json); without them an incompatible image is not caught here.",
      fix: "Add the release with `node src/upgrade/derive-schema-versions.ts` (docs/upgrades.md), or name a known release.",
    },
    {
      id: "versions.room-version-unsupported",
      severity: "error",
      catches:
        "Synapse creates rooms in version 12 by default, and the bridge (mautrix-slack before v0.2.2) cannot create rooms there",
      why: 'mautrix-go before v0.24.2 puts the room creator into the power levels, which room version 12 forbids. Run for real (Synapse 1.163.2, mautrix-slack v0.2.0, `default_room_version: "12"`): already the workspace space fails at connect, `ERR Failed to create Matrix room error="M_UNKNOWN (HTTP 400): Creator user @slackbot:localhost must not appear in content.users"`, the login ends in UNKNOWN_ERROR (slack-unknown-connect-error), no Socket Mode connection and no portal. Synapse 1.162.0 and 1.163.2 default to version 12; 1.157.1 defaulted to 11 (releases between are unchecked: warning).',
      fix: 'Set `default_room_version: "11"` in the homeserver config, or run mautrix-slack v0.2.2 or later.',
      evidence:
        "the run described above; src/homeservers/synapse/config.ts pins version 11 in the test environments for this reason, so scenarios pass where production would not",
    },
  ],
  run(ctx) {
    checkSchema(ctx);
    checkRoomVersion(ctx);
  },
};

function checkSchema(ctx: CheckContext): void {
  const deployed = ctx.env.production.bridgeRelease;
  const image = ctx.env.bridge.image;
  if (!deployed || !image) return;
  const target = imageRelease(image);
  const release = deployed.startsWith("v") ? deployed : `v${deployed}`;
  const unknown = [release, target].find((r) => {
    if (!r) return false;
    try {
      findRelease(r);
      return false;
    } catch {
      return true;
    }
  });
  if (unknown || !target) {
    ctx.findings.add(
      "versions.release-unknown",
      envAt(ctx, unknown === release ? ["production", "bridge_release"] : ["bridge", "image"]),
      unknown ? `no schema data for mautrix-slack ${unknown}` : `cannot tell the release of ${image}`,
    );
    return;
  }
  const encryption = ctx.bridge.get(["encryption", "allow"]) === true;
  const prediction = predictRollback(schemaAfterRelease(release, encryption), target);
  if (!prediction.accepted)
    ctx.findings.add(
      "versions.database-schema-refused",
      envAt(ctx, ["bridge", "image"]),
      `${image} will refuse the database ${release} left (${prediction.refusedSections.join(", ")}): ${prediction.reasons[0]}`,
    );
}

function checkRoomVersion(ctx: CheckContext): void {
  if (ctx.env.homeserver.kind !== "synapse") return;
  const bridge = imageRelease(ctx.env.bridge.image);
  if (!bridge || atLeast(bridge, FIRST_BRIDGE_WITH_V12)) return;
  const explicit = ctx.homeserver.at(["default_room_version"]);
  const synapse = imageRelease(ctx.env.homeserver.image);
  if (explicit) {
    if (String(explicit.value) === "12")
      ctx.findings.add(
        "versions.room-version-unsupported",
        explicit,
        `default_room_version is 12 and mautrix-slack ${bridge} cannot create rooms in it`,
      );
    return;
  }
  if (!synapse || compareReleases(synapse, SYNAPSE_V11_UNTIL) <= 0) return;
  const certain = atLeast(synapse, SYNAPSE_V12_FROM);
  ctx.findings.add(
    "versions.room-version-unsupported",
    envAt(ctx, ["homeserver", "image"]),
    `${
      certain
        ? `Synapse ${synapse} creates rooms in version 12 by default and mautrix-slack ${bridge} cannot create rooms in it`
        : `Synapse ${synapse} may default to room version 12 (1.162.0 does), which mautrix-slack ${bridge} cannot create rooms in`
    } (test environments pin version 11, so scenarios pass where this config in production would not)`,
    { severity: certain ? "error" : "warning" },
  );
}
