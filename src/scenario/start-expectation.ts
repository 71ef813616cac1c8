// Scenarios that reproduce a configuration which breaks a deployment (`expect_start`): the
// environment must fail to come up, in one of the stated ways. The outcome is reported as one
// step whose title says why, with the service, exit code and log line that proved it.
import type { StartExpectation } from "../config/scenario.ts";
import type { StepResult } from "../report/model.ts";
import { findServiceStartError, type ServiceStartError } from "../runtime/start-failure.ts";
import { now } from "../util/clock.ts";
import { redact } from "../util/redact.ts";

export interface StartVerdict {
  ok: boolean;
  /** One line for the report. */
  summary: string;
  details: Record<string, unknown>;
}

function describe(e: StartExpectation): string {
  const parts = [`${e.service} fails to start`];
  if (e.exitCode !== undefined) parts.push(`exit ${e.exitCode}`);
  if (e.log) parts.push(`log matching /${e.log}/`);
  return parts.join(", ");
}

/** The first expectation `failure` meets, with the log line that proved it. */
function matching(
  failure: ServiceStartError,
  expectations: readonly StartExpectation[],
): { expectation: StartExpectation; line?: string } | undefined {
  for (const expectation of expectations) {
    if (failure.service !== expectation.service) continue;
    if (expectation.exitCode !== undefined && failure.exitCode !== expectation.exitCode) continue;
    if (!expectation.log) return { expectation };
    const re = new RegExp(expectation.log);
    const line = failure.startLines.find((l) => re.test(l));
    if (line !== undefined) return { expectation, line };
  }
  return undefined;
}

/** Judges how an environment start ended against the scenario's expected failures. */
export function judgeStart(
  outcome: { started: true } | { started: false; error: unknown },
  expectations: readonly StartExpectation[],
): StartVerdict {
  const expected = expectations.map(describe).join(" or ");
  if (outcome.started)
    return {
      ok: false,
      summary: `the environment started, but ${expected} was expected (${expectations[0].because})`,
      details: { expected },
    };
  const failure = findServiceStartError(outcome.error);
  if (!failure) {
    const message = outcome.error instanceof Error ? outcome.error.message : String(outcome.error);
    return {
      ok: false,
      summary: `the start failed another way than expected (${expected}): ${message.split("\n")[0]}`,
      details: { expected, error: redact(message) },
    };
  }
  const facts = {
    service: failure.service,
    exitCode: failure.exitCode,
    logTail: failure.logTail,
  };
  const match = matching(failure, expectations);
  if (!match)
    return {
      ok: false,
      summary: `${failure.service} failed${failure.exitCode === undefined ? "" : ` with exit ${failure.exitCode}`}, but ${expected} was expected`,
      details: { expected, ...facts },
    };
  const { expectation, line } = match;
  return {
    ok: true,
    summary: `${failure.service} did not start${failure.exitCode === undefined ? "" : ` (exit ${failure.exitCode})`}: ${expectation.because}`,
    details: { ...facts, because: expectation.because, ...(line ? { logLine: line } : {}) },
  };
}

/** The verdict as the scenario's one step. */
export function startStepResult(verdict: StartVerdict, startedAt: number): StepResult {
  return {
    id: "expect_start",
    type: "expect_start",
    title: verdict.summary,
    outcome: verdict.ok ? "passed" : "failed",
    startedAt,
    durationMs: now() - startedAt,
    ...(verdict.ok ? {} : { error: redact(verdict.summary) }),
    latencies: [],
    details: JSON.parse(redact(JSON.stringify(verdict.details))),
  };
}
