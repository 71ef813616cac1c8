// The environment the e2e tests run: upstream names (the image map resolves them to local builds).
import type { EnvironmentSpec } from "../../src/environment/api.ts";

export const DEFAULT_E2E_SPEC: EnvironmentSpec = {
  name: "e2e",
  postgres: { image: "postgres:16" },
  homeserver: {
    kind: "synapse",
    image: "matrixdotorg/synapse:v1.163.2",
    serverName: "localhost",
    configOverlays: [],
    env: {},
    appserviceRegistration: "config",
  },
  bridge: { kind: "mautrix-slack", image: "mautrix/slack:v0.2.0", configOverlays: [] },
};

/** Scenario files test/e2e/upgrade.test.ts runs, with assertions on their upgrade details. */
export const UPGRADE_SCENARIO_FILES = [
  "upgrade-rollback-with-restore",
  "upgrade-rollback-without-restore",
  "synapse-upgrade",
  "config-change",
];

/** Steps that change the environment's versions or config: their scenarios belong in that list. */
export const ENVIRONMENT_CHANGING_STEPS = new Set([
  "bridge.upgrade",
  "bridge.rollback",
  "homeserver.upgrade",
  "config.change",
]);

/** Scenario files too long for the test run; each has its own documented command (README). */
export const LONG_SCENARIO_FILES = ["soak"];
