// vitest globalSetup for the e2e project: the Docker engine and the images must be there. In CI
// (CI=true) a missing prerequisite fails the run; elsewhere the e2e tests are skipped with a loud,
// visible reason (inject("e2eSkipReason")). Also removes leftovers of earlier runs.
import "../../src/runtime/docker-env.ts";
import type { TestProject } from "vitest/node";
import { checkDocker, missingImages, resolveImages } from "../../src/environment/preflight.ts";
import { describeSwept, sweepLeftovers } from "../../src/runtime/cleanup.ts";
import { DEFAULT_E2E_SPEC } from "./spec.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** Empty when the e2e prerequisites are present; otherwise why the e2e tests are skipped. */
    e2eSkipReason: string;
  }
}

export default async function setup(project: TestProject): Promise<void> {
  let reason = "";
  try {
    await checkDocker();
    const images = Object.values(resolveImages(DEFAULT_E2E_SPEC));
    const missing = await missingImages(images);
    if (missing.length)
      reason = `images missing locally: ${missing.join(", ")} (build them: ./harness images build)`;
  } catch (err) {
    reason = err instanceof Error ? err.message : String(err);
  }
  if (reason) {
    if (process.env.CI === "true")
      throw new Error(`e2e prerequisites missing (CI=true makes this fatal): ${reason}`);
    const bar = "!".repeat(78);
    process.stderr.write(`\n${bar}\n!! e2e tests SKIPPED: ${reason}\n${bar}\n\n`);
  } else {
    const removed = await sweepLeftovers().catch(() => []);
    if (removed.length)
      process.stderr.write(`bridge-harness: removed leftovers of ended runs: ${describeSwept(removed)}\n`);
  }
  project.provide("e2eSkipReason", reason);
}
