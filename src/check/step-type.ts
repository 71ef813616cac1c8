// The `check` scenario step, in the scenario validator's format (src/config/steps.ts). Pure data:
// the implementation is in step.ts.
import type { StepTypeSpec } from "../config/steps.ts";
import { SEVERITIES } from "./findings.ts";

export const CHECK_STEP_TYPES: Record<string, StepTypeSpec> = {
  check: {
    doc: "Static checks of the operator's files the environment names (as `bridge-harness check` runs them): fails on findings at or above `fail_on`. Placed first in a scenario it runs before the environment starts, so a broken config fails in a second instead of after start-up. Findings are in the step's details.",
    fields: {
      environment: {
        type: "string",
        doc: "environment file to check, relative to the scenario (default: the scenario's own)",
      },
      fail_on: {
        type: "string",
        enum: SEVERITIES,
        doc: "fail on findings of this severity or worse (default error)",
      },
      expect: {
        type: "list",
        items: {
          type: "string",
          pattern: /^[a-z]+\.[a-z0-9-]+$/,
          patternHint: "a check id like registration.as-token-mismatch (docs/config-checks.md)",
          doc: "check id",
        },
        doc: "check ids that must be reported (a scenario that runs a known-bad config on purpose); they do not fail the step",
      },
    },
    example: null,
  },
};
