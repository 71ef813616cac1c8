// The environment the e2e tests run: upstream names (the image map resolves them to local builds).
import type { EnvironmentSpec } from "../../src/environment/api.ts";
import { DEFAULT_SCENARIO_SET, SMOKE_SCENARIO_SET } from "../../src/scenario/runner.ts";

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
  bridge: { kind: "mautrix-slack", image: "dock.mau.dev/mautrix/slack:v0.2.0", configOverlays: [] },
};

/** Scenario files test/e2e/upgrade.test.ts runs, with assertions on their upgrade details. */
export const UPGRADE_SCENARIO_FILES = [
  "upgrade-rollback-with-restore",
  "upgrade-rollback-without-restore",
  "synapse-upgrade",
  "config-change",
  "mas-config-rollback",
];

/**
 * Homeserver kinds beyond the default Synapse: which environment, and which scenarios run in it
 * (retargeted from the environment they name). The full set where a kind adds coverage, a smoke set
 * where a close relative already runs in full.
 */
export const HOMESERVER_MATRIX: { environment: string; scenarios: readonly string[] }[] = [
  { environment: "continuwuity", scenarios: DEFAULT_SCENARIO_SET },
  { environment: "synapse-mas", scenarios: DEFAULT_SCENARIO_SET },
  { environment: "tuwunel", scenarios: SMOKE_SCENARIO_SET },
  { environment: "tuwunel-config-registration", scenarios: ["login-and-portals", "messaging"] },
];

/** Scenario files too long for `npm test` (volume and soak runs): test/long/ runs them (`npm run test:long`). */
export const LONG_SCENARIO_FILES = ["daily-volume", "soak"];
