// The `production:` section of an environment file: facts about the production deployment that only
// `bridge-harness check` reads. Part of the environment schema (src/config/environment.ts).
import type { FieldSpec } from "../config/fields.ts";

/** The `production:` section of an environment file (also part of the environment schema). */
export const PRODUCTION_FIELDS: FieldSpec = {
  type: "object",
  doc: "facts about the production deployment that only `bridge-harness check` reads; the test environment generates its own registration and addresses",
  fields: {
    registration: {
      type: "string",
      doc: "the appservice registration file the production homeserver loads (path relative to this file)",
    },
    slack_app_manifest: {
      type: "string",
      doc: "the Slack app's manifest, YAML or JSON as exported from the app's settings (path relative to this file)",
    },
    bridge_release: {
      type: "string",
      pattern: /^v?\d+\.\d+(\.\d+)?$/,
      patternHint: 'a mautrix-slack release like "v0.2.0"',
      doc: "the mautrix-slack release that last ran on the production bridge database: its schema is compared with bridge.image",
    },
    hosts: {
      type: "list",
      items: { type: "string", doc: "host name" },
      doc: "host names the bridge, homeserver and database reach each other by in production (compose service names, DNS names); addresses naming other hosts are reported",
    },
    postgres_max_connections: {
      type: "integer",
      min: 1,
      doc: "max_connections of the production PostgreSQL the services share (default 100)",
    },
    ignore: {
      type: "list",
      items: { type: "string", doc: "check id" },
      doc: "check ids not to report: deliberate deviations (docs/config-checks.md lists the ids)",
    },
  },
};
