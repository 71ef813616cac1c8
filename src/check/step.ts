// The `check` scenario step: the static checks as a step (details: every finding), and the same
// judgement before an environment starts, so a scenario whose config fails them does not wait for
// containers first.
import path from "node:path";
import { ConfigError, displayPath } from "../config/errors.ts";
import type { ScenarioSpec } from "../config/scenario.ts";
import type { ScenarioResult, StepResult } from "../report/model.ts";
import type { StepContext } from "../scenario/steps.ts";
import { now } from "../util/clock.ts";
import { redact } from "../util/redact.ts";
import { countBySeverity, reaches, type Severity } from "./findings.ts";
import { allChecks, type CheckResult, runChecks } from "./run.ts";

export interface CheckStepArgs {
  environment?: string;
  fail_on?: Severity;
  expect?: string[];
}

export interface CheckOutcome {
  /** Why the step fails; undefined when it passes. */
  error?: string;
  details: Record<string, unknown>;
}

/** Runs the checks for a step and judges the findings against `fail_on` and `expect`. */
export function evaluateCheck(environmentFile: string, args: CheckStepArgs): CheckOutcome {
  let result: CheckResult;
  try {
    result = runChecks(environmentFile);
  } catch (e) {
    if (e instanceof ConfigError) return { error: e.message, details: {} };
    throw e;
  }
  const details: Record<string, unknown> = {
    environment: displayPath(result.environment.file),
    durationMs: Math.round(result.durationMs),
    counts: countBySeverity(result.findings),
    findings: result.findings.map((f) => ({
      id: f.id,
      severity: f.severity,
      at: `${displayPath(f.file)}:${f.line}`,
      message: f.message,
    })),
  };
  const expected = new Set(args.expect ?? []);
  const unknown = [...expected].filter((id) => !allChecks().some((c) => c.id === id));
  if (unknown.length)
    return {
      error: `unknown check id(s) in expect: ${unknown.join(", ")} (docs/config-checks.md lists them)`,
      details,
    };
  const problems: string[] = [];
  const missing = [...expected].filter((id) => !result.findings.some((f) => f.id === id));
  if (missing.length) problems.push(`expected finding(s) not reported: ${missing.join(", ")}`);
  const blocking = result.findings.filter(
    (f) => !expected.has(f.id) && reaches(f.severity, args.fail_on ?? "error"),
  );
  if (blocking.length)
    problems.push(
      `${blocking.length} finding(s): ${blocking
        .map((f) => `${displayPath(f.file)}:${f.line} ${f.id}: ${f.message}`)
        .join("; ")}`,
    );
  return { error: problems.length ? redact(problems.join("; ")) : undefined, details };
}

/** The environment file a step checks: its own `environment:` (relative to the scenario), else the scenario's. */
export function checkedEnvironment(
  args: CheckStepArgs,
  scenarioEnvironment: string,
  baseDir: string,
): string {
  return args.environment ? path.resolve(baseDir, args.environment) : scenarioEnvironment;
}

/**
 * The scenario's leading `check` steps, run before its environment starts. Returns the scenario's
 * (failed) result when one fails: that step failed, every later step skipped. Undefined otherwise;
 * the steps then run again, cheaply, as the scenario's first steps.
 */
export function checkBeforeStart(
  spec: ScenarioSpec,
  runDir: string,
  describe: (type: string, args: Record<string, any>) => string,
): ScenarioResult | undefined {
  const startedAt = now();
  const steps: StepResult[] = [];
  const stepId = (i: number) => spec.steps[i].id ?? `${i + 1}-${spec.steps[i].type}`;
  let failed: StepResult | undefined;
  for (const [i, s] of spec.steps.entries()) {
    if (s.type !== "check") break;
    const args = s.args as CheckStepArgs;
    const at = now();
    const outcome = evaluateCheck(
      checkedEnvironment(args, spec.environmentFile, path.dirname(spec.file)),
      args,
    );
    const result: StepResult = {
      id: stepId(i),
      type: s.type,
      title: describe(s.type, args),
      outcome: outcome.error === undefined ? "passed" : "failed",
      startedAt: at,
      durationMs: now() - at,
      latencies: [],
      ...(outcome.error === undefined ? {} : { error: outcome.error }),
      details: outcome.details,
    };
    steps.push(result);
    if (outcome.error !== undefined) {
      failed = result;
      break;
    }
  }
  if (!failed) return undefined;
  for (let i = steps.length; i < spec.steps.length; i++)
    steps.push({
      id: stepId(i),
      type: spec.steps[i].type,
      title: describe(spec.steps[i].type, spec.steps[i].args),
      outcome: "skipped",
      startedAt: now(),
      durationMs: 0,
      latencies: [],
      details: { reason: "an earlier step failed" },
    });
  return {
    name: spec.name,
    file: displayPath(spec.file),
    environment: spec.environment.name,
    outcome: "failed",
    startedAt,
    durationMs: now() - startedAt,
    setup: {},
    steps,
    latency: [],
    runDir,
    logs: {},
    error: `step ${failed.id} failed before the environment started: ${failed.error}`,
  };
}

export function checkTitle(args: CheckStepArgs): string {
  const what = args.environment ? `${args.environment}'s config files` : "the environment's config files";
  const expect = args.expect?.length ? `, expecting ${args.expect.join(", ")}` : "";
  return `static checks of ${what}${expect}`;
}

export const CHECK_IMPLEMENTATIONS = {
  async check(ctx: StepContext, args: CheckStepArgs): Promise<void> {
    const scenarioEnvironment = ctx.state.environmentFile;
    if (!scenarioEnvironment && !args.environment)
      throw new Error("check: no environment file to check (name one with `environment:`)");
    const outcome = evaluateCheck(
      checkedEnvironment(args, scenarioEnvironment ?? "", ctx.state.baseDir),
      args,
    );
    Object.assign(ctx.details, outcome.details);
    if (outcome.error !== undefined) throw new Error(outcome.error);
  },
};
