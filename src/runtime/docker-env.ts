// Defaults testcontainers needs on machines without a registry. Import this module before anything
// that imports "testcontainers": ESM evaluates imports in order, so the variables are set before
// testcontainers reads them. Values the user set explicitly are kept.
//   TESTCONTAINERS_RYUK_DISABLED: the Ryuk reaper image cannot be pulled; the harness cleans up by label.
//   TESTCONTAINERS_HOST_OVERRIDE: skips the helper container testcontainers runs to find the host.
process.env.TESTCONTAINERS_RYUK_DISABLED ??= "true";
process.env.TESTCONTAINERS_HOST_OVERRIDE ??= "localhost";

export const DOCKER_ENV_DEFAULTS_APPLIED = true;
