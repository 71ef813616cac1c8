// The runner: validated scenarios -> environments (one per distinct environment + workspace) ->
// steps with latency samples -> RunResult for the reports -> teardown (unless kept).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { redactFolder } from "../artifacts/redact-folder.ts";
import { operatorSecrets } from "../artifacts/secrets.ts";
import { checkBeforeStart } from "../check/step.ts";
import { displayPath } from "../config/errors.ts";
import { DEFAULT_TIMEOUT_MS, type ExpectedFailureMark, type ScenarioSpec } from "../config/scenario.ts";
import { formatDuration, parseDuration } from "../config/units.ts";
import type { StartedEnvironment, StartOptions } from "../environment/api.ts";
import { summarizeLatencies } from "../report/latency.ts";
import type {
  Direction,
  LatencySample,
  Outcome,
  RunResult,
  ScenarioResult,
  StepResult,
} from "../report/model.ts";
import { now } from "../util/clock.ts";
import { redact, registerSecret } from "../util/redact.ts";
import { levelAbove, lineLevel, lineMatcher } from "./content.ts";
import { judgeStart, startStepResult } from "./start-expectation.ts";
import { type ScenarioBudgets, ScenarioState } from "./state.ts";
import { describeStep, IMPLEMENTATIONS, markLogs, type Step, type StepContext } from "./steps.ts";

/** What the runner tells a progress printer (the reports' terminal printer fits). */
export interface RunProgress {
  scenarioStarted?(name: string, file: string): void;
  setupPhase?(name: string, ms: number): void;
  stepStarted?(step: { id: string; type?: string; title?: string }): void;
  stepFinished?(step: StepResult): void;
  scenarioFinished?(result: ScenarioResult): void;
  /** Free-form lines (environment start-up progress). */
  line?(text: string): void;
}

export class StepFailure extends Error {
  readonly result: StepResult;
  constructor(result: StepResult) {
    super(`step ${result.id} (${result.title}) failed: ${result.error}`);
    this.name = "StepFailure";
    this.result = result;
  }
}

export interface ScenarioOptions {
  name?: string;
  /** Scenario file (for reports); default "(typescript)". */
  file?: string;
  /** Matrix users the steps may use; the first observes portals by default. */
  matrixUsers?: string[];
  budgets?: Partial<ScenarioBudgets>;
  /** After a failed step, later steps are skipped unless this is set. */
  continueOnFailure?: boolean;
  /** `run()` throws StepFailure when a step fails (default true: natural in vitest). */
  throwOnFailure?: boolean;
  /** Base folder for relative file paths in steps. */
  baseDir?: string;
  /** The environment file the scenario runs in (checked by the `check` step). */
  environmentFile?: string;
  progress?: RunProgress;
}

/**
 * A scenario driven step by step against a started environment — the TypeScript API:
 *
 *   const sc = new Scenario(env, { matrixUsers: ["alice"] });
 *   await sc.run(steps.login({ user: "alice" }));
 *   await sc.run(steps.slackPost({ user: "bob", channel: "#dev-platform", text: "hi" }));
 *   const result = sc.finish();
 */
export class Scenario {
  readonly env: StartedEnvironment;
  readonly state: ScenarioState;
  readonly opts: ScenarioOptions;
  readonly steps: StepResult[] = [];
  readonly startedAt = now();
  private failed = false;
  private marked = false;
  private readonly ids = new Set<string>();

  constructor(env: StartedEnvironment, opts: ScenarioOptions = {}) {
    this.env = env;
    this.opts = opts;
    this.state = new ScenarioState(env, {
      matrixUsers: opts.matrixUsers,
      budgets: opts.budgets,
      baseDir: opts.baseDir,
      environmentFile: opts.environmentFile,
    });
  }

  /** Runs one step and records its result; skipped after an earlier failure unless continueOnFailure. */
  async run(step: Step): Promise<StepResult> {
    const index = this.steps.length + 1;
    const id = step.id ?? `${index}-${step.type}`;
    if (this.ids.has(id)) throw new Error(`duplicate step id "${id}"`);
    this.ids.add(id);
    const title = describeStep(step.type, step.args);
    if (!this.marked) {
      this.marked = true;
      await markLogs(this.state);
    }
    this.opts.progress?.stepStarted?.({ id, type: step.type, title });
    const result =
      this.failed && !this.opts.continueOnFailure
        ? skipped(id, step.type, title, "an earlier step failed")
        : applyExpectedFailure(await executeStep(this.state, step, id, title), step.expectedFailure);
    if (result.outcome === "failed") this.failed = true;
    // Losses in the window of a fault that failed as expected are put down to the known problem;
    // where the fault only now and then causes it, those that match the mark (see FaultWindow).
    const mark = step.expectedFailure;
    for (const w of this.state.faultWindows) {
      if (w.stepId !== id || !mark) continue;
      if (result.outcome === "expected_failure") w.knownProblem = mark.reason;
      else if (mark.matches) w.mayCause = { reason: mark.reason, matches: mark.matches };
    }
    this.steps.push(result);
    this.opts.progress?.stepFinished?.(result);
    if (result.outcome === "failed" && (this.opts.throwOnFailure ?? true)) throw new StepFailure(result);
    return result;
  }

  get outcome(): Outcome {
    return this.steps.some((s) => s.outcome === "failed") ? "failed" : "passed";
  }

  /** The scenario's result (latency summaries per direction included). */
  finish(extra: Partial<ScenarioResult> = {}): ScenarioResult {
    for (const task of this.state.background) task.stop();
    this.state.background.clear();
    const all = this.steps.flatMap((s) => s.latencies);
    const samples = all.filter((s) => !s.duringFault);
    const duringFaults = all.filter((s) => s.duringFault);
    const { faultWindows, availability } = this.state;
    const env = this.env;
    const firstError = this.steps.find((s) => s.outcome === "failed");
    return {
      name: this.opts.name ?? "scenario",
      file: this.opts.file ?? "(typescript)",
      environment: env.spec.name,
      outcome: this.outcome,
      startedAt: this.startedAt,
      durationMs: now() - this.startedAt,
      setup: {},
      steps: this.steps,
      latency: summarizeLatencies(samples),
      runDir: env.runDir,
      logs: serviceLogs(env),
      ...environmentNotes(env),
      ...(env.services ? { services: env.services } : {}),
      ...(firstError ? { error: `step ${firstError.id} failed: ${firstError.error}` } : {}),
      ...(duringFaults.length ? { latencyDuringFaults: summarizeLatencies(duringFaults) } : {}),
      ...(faultWindows.length ? { faults: [...faultWindows] } : {}),
      ...(availability ? { availability } : {}),
      ...extra,
    };
  }
}

/**
 * A step marked `expected_failure:` that failed the known way becomes an expected failure (the
 * scenario goes on and passes); one that failed another way stays failed; one that passed says so.
 */
export function applyExpectedFailure(result: StepResult, mark: ExpectedFailureMark | undefined): StepResult {
  if (!mark || result.outcome === "skipped") return result;
  const known = { reason: mark.reason, upstream: mark.upstream };
  if (result.outcome === "passed") return { ...result, expectedFailure: { ...known, occurred: false } };
  if (mark.matches && !lineMatcher(mark.matches)(result.error ?? ""))
    return {
      ...result,
      error: `${result.error} (not the expected failure, which matches ${JSON.stringify(mark.matches)})`,
    };
  return { ...result, outcome: "expected_failure", expectedFailure: { ...known, occurred: true } };
}

function skipped(id: string, type: string, title: string, why: string): StepResult {
  return {
    id,
    type,
    title,
    outcome: "skipped",
    startedAt: now(),
    durationMs: 0,
    latencies: [],
    details: { reason: why },
  };
}

/**
 * The shipped default scenario set (scenarios/<name>.yaml). One fact of the deployment orders it:
 * every scenario logs in again, and mautrix-slack (v0.2.0, and by its code the current release too)
 * leaves the previous login's Socket Mode connection open, while Slack allows an app 10; so at most
 * 10 scenarios of one shared environment run before `health`, whose bridge restart closes them.
 */
export const DEFAULT_SCENARIO_SET: readonly string[] = [
  "login-and-portals",
  "messaging",
  "reactions",
  "edits",
  "files",
  "portals",
  "membership-and-profiles",
  "current-release-surface",
  "health",
  "rich-text",
  "deletions",
  "threads",
  "direct-messages",
];

/**
 * The smoke set: what every homeserver kind must pass at least (login, portal, messages both ways,
 * health with a homeserver restart). Kinds close to one already run in full get this set.
 */
export const SMOKE_SCENARIO_SET: readonly string[] = ["login-and-portals", "messaging", "health"];

/** The environment's stated known issues, client settings and where people log in, for every report. */
export function environmentNotes(env: StartedEnvironment): { notes?: string[] } {
  const spec = env.spec;
  const auth = env.homeserver?.auth;
  const notes = [
    ...(auth
      ? [
          `matrix-authentication-service at ${env.homeserver.links.mas} (${auth.image}); people sign in at ${auth.loginUrl}`,
        ]
      : []),
    ...(spec.matrixClient
      ? [
          `Matrix clients poll /sync for ${formatDuration(spec.matrixClient.syncTimeoutMs)}: ${spec.matrixClient.reason}`,
        ]
      : []),
    ...(spec.knownIssues ?? []).map((k) => `known issue (${k.service} log /${k.log}/): ${k.reason}`),
    ...(env.homeserver?.notices ?? []),
  ];
  return notes.length ? { notes } : {};
}

export function serviceLogs(env: StartedEnvironment): Record<string, string> {
  const logs: Record<string, string> = {};
  if (env.homeserver?.logFile) logs.homeserver = env.homeserver.logFile;
  Object.assign(logs, env.homeserver?.extraLogs ?? {});
  if (env.bridge?.logFile) logs.bridge = env.bridge.logFile;
  return logs;
}

const DIRECTION_WORDS: Record<Direction, string> = {
  slack_to_matrix: "Slack → Matrix",
  matrix_to_slack: "Matrix → Slack",
};

/** Budget applying to a sample: the step's own, else the scenario's for that direction. */
export function budgetFor(
  direction: Direction,
  stepBudgetMs: number | undefined,
  budgets: ScenarioBudgets,
): number {
  if (stepBudgetMs !== undefined) return stepBudgetMs;
  return direction === "slack_to_matrix" ? budgets.slackToMatrixMs : budgets.matrixToSlackMs;
}

/** Messages for the samples over their budget (empty when all are within); samples during a fault are exempt. */
export function budgetViolations(samples: readonly LatencySample[]): string[] {
  return samples
    .filter((s) => s.latencyMs > s.budgetMs && !s.duringFault)
    .map(
      (s) =>
        `${DIRECTION_WORDS[s.direction]} ${s.kind} took ${formatDuration(s.latencyMs)}, over the ${formatDuration(s.budgetMs)} budget`,
    );
}

export async function executeStep(
  state: ScenarioState,
  step: Step,
  id: string,
  title: string,
): Promise<StepResult> {
  const startedAt = now();
  const impl = IMPLEMENTATIONS[step.type];
  const stepBudget = step.budget === undefined ? undefined : parseDuration(step.budget);
  const timeoutMs =
    (step.timeout === undefined ? undefined : parseDuration(step.timeout)) ?? DEFAULT_TIMEOUT_MS;
  const latencies: LatencySample[] = [];
  const overheadMs: number[] = [];
  const handlingMs: number[] = [];
  const details: Record<string, unknown> = {};
  const ctx: StepContext = {
    state,
    stepId: id,
    stepType: step.type,
    title,
    timeoutMs,
    details,
    budgetMs: (d) => budgetFor(d, stepBudget, state.budgets),
    sample(direction, kind, startAt, endAt, observedAt, matchedAt) {
      const duringFault = state.faultOverlapping(startAt, endAt);
      latencies.push({
        stepId: id,
        direction,
        kind,
        startAt,
        endAt,
        latencyMs: endAt - startAt,
        budgetMs: budgetFor(direction, stepBudget, state.budgets),
        ...(duringFault ? { duringFault } : {}),
      });
      if (observedAt === undefined) return;
      overheadMs.push(Math.max(0, observedAt - (matchedAt ?? endAt)));
      handlingMs.push(Math.max(0, (matchedAt ?? endAt) - endAt));
    },
    nested: async (inner) => {
      const innerId = inner.id ?? `${id}.${inner.type}`;
      const result = await executeStep(state, inner, innerId, describeStep(inner.type, inner.args));
      latencies.push(...result.latencies);
      return result;
    },
  };
  const bridgeLogMark = (await state.env.bridge.logLines()).length;
  let error: string | undefined;
  try {
    if (!impl) throw new Error(`unknown step type "${step.type}"`);
    if (step.budget !== undefined && stepBudget === undefined)
      throw new Error(`budget: not a duration: ${step.budget}`);
    await impl(ctx, step.args ?? {});
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
  }
  const over = budgetViolations(latencies);
  if (!error && over.length) error = over.join("; ");
  if (error) {
    const said = await bridgeComplaints(state, bridgeLogMark);
    if (said.length) details.bridgeLog = said;
  }
  if (overheadMs.length) {
    details.observeOverheadMs = overheadMs.map((x) => Math.round(x * 1000) / 1000);
    details.observedSideHandlingMs = handlingMs.map((x) => Math.round(x * 1000) / 1000);
  }
  return {
    id,
    type: step.type,
    title,
    outcome: error ? "failed" : "passed",
    startedAt,
    durationMs: now() - startedAt,
    ...(error ? { error: redact(error) } : {}),
    latencies,
    ...(Object.keys(details).length ? { details: JSON.parse(redact(JSON.stringify(details))) } : {}),
  };
}

/**
 * Evidence for a failed step (details.bridgeLog): the bridge's warnings and errors logged while it
 * ran, the last 8, so a report from CI says what the bridge thought without the run folder.
 */
async function bridgeComplaints(state: ScenarioState, mark: number): Promise<string[]> {
  const lines = await state.env.bridge.logLines().catch(() => [] as string[]);
  // One log for the bridge across restarts and swaps; it keeps its last 200,000 lines in memory, so
  // past that the count stands still and no line is told to be this step's.
  return lines
    .slice(mark)
    .filter((l) => {
      const level = lineLevel(l);
      return level !== undefined && levelAbove(level, "info");
    })
    .slice(-8)
    .map((l) => l.trim().slice(0, 300));
}

/** Runs a validated scenario file's steps in a started environment. */
export async function runScenarioIn(
  env: StartedEnvironment,
  spec: ScenarioSpec,
  progress?: RunProgress,
): Promise<ScenarioResult> {
  const sc = new Scenario(env, {
    name: spec.name,
    file: displayPath(spec.file),
    matrixUsers: spec.matrixUsers,
    budgets: spec.budgets,
    continueOnFailure: spec.continueOnFailure,
    throwOnFailure: false,
    baseDir: path.dirname(spec.file),
    environmentFile: spec.environmentFile,
    progress,
  });
  progress?.scenarioStarted?.(spec.name, displayPath(spec.file));
  for (const s of spec.steps)
    await sc.run({
      type: s.type,
      args: s.args,
      id: s.id,
      budget: s.budgetMs,
      timeout: s.timeoutMs,
      expectedFailure: s.expectedFailure,
    });
  const result = sc.finish({ setup: { ...env.timings } });
  progress?.scenarioFinished?.(result);
  return result;
}

// ---------------------------------------------------------------- many scenarios

export interface ScenarioGroup {
  /** Environment file + canonical seed: scenarios with the same key share one environment. */
  key: string;
  scenarios: ScenarioSpec[];
}

/** Steps that change the environment's versions or config: their scenarios run in an environment of their own. */
export const ENVIRONMENT_CHANGING_STEPS: ReadonlySet<string> = new Set([
  "bridge.upgrade",
  "bridge.rollback",
  "homeserver.upgrade",
  "config.change",
  "auth.config_change",
]);

/** Groups scenarios that can share one environment (same environment file and same Slack seed), in first-seen order. */
export function groupScenarios(
  specs: readonly ScenarioSpec[],
  opts: { share?: boolean } = {},
): ScenarioGroup[] {
  const groups: ScenarioGroup[] = [];
  specs.forEach((spec, i) => {
    // A scenario about the start itself (expect_start), or one that changes versions or config for
    // good, gets an environment of its own: the next scenario must not inherit its changes.
    const alone =
      opts.share === false ||
      spec.expectStart !== undefined ||
      spec.steps.some((s) => ENVIRONMENT_CHANGING_STEPS.has(s.type));
    const key = alone ? `${i}:${spec.file}` : `${spec.environmentFile}\n${canonical(spec.slackSeed)}`;
    const g = groups.find((x) => x.key === key);
    if (g) g.scenarios.push(spec);
    else groups.push({ key, scenarios: [spec] });
  });
  return groups;
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v && typeof v === "object")
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  return JSON.stringify(v ?? null);
}

export type StartEnvironmentFn = (
  spec: ScenarioSpec["environment"],
  opts: StartOptions,
) => Promise<StartedEnvironment>;

/** The colleague-provided environment starter, loaded lazily so validation works without Docker. */
export async function defaultStartEnvironment(): Promise<StartEnvironmentFn> {
  const mod = await import(new URL("../environment/environment.ts", import.meta.url).href);
  return mod.startEnvironment as StartEnvironmentFn;
}

export interface RunScenariosOptions {
  /** Folder under which each environment gets its run folder (default ./runs). */
  runsDir?: string;
  imageMap?: Record<string, string>;
  /** Leave environments running (the caller stops them). */
  keep?: boolean;
  /** One environment per scenario instead of sharing (default: share). */
  isolate?: boolean;
  progress?: RunProgress;
  startEnvironment?: StartEnvironmentFn;
  /** Called when an environment is up (before its scenarios run). */
  onEnvironment?(env: StartedEnvironment, group: ScenarioGroup): void;
  /** Checked between scenarios: stop early (Ctrl-C). */
  aborted?(): boolean;
}

export interface RunScenariosOutcome {
  result: RunResult;
  /** Environments still running (with keep). */
  kept: StartedEnvironment[];
}

/** Environments started by runScenarios and not yet stopped (for Ctrl-C). */
export const activeEnvironments = new Set<StartedEnvironment>();

export function toolVersion(): string {
  try {
    return (
      JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")).version ?? "0.0.0"
    );
  } catch {
    return "0.0.0";
  }
}

function stamp(): string {
  return new Date()
    .toISOString()
    .replace(/\.\d+Z$/, "")
    .replace(/:/g, "-");
}

export async function runScenarios(
  specs: readonly ScenarioSpec[],
  opts: RunScenariosOptions = {},
): Promise<RunScenariosOutcome> {
  const startedAt = now();
  const start = opts.startEnvironment ?? (await defaultStartEnvironment());
  const results: ScenarioResult[] = [];
  const kept: StartedEnvironment[] = [];
  const groups = groupScenarios(specs, { share: !opts.isolate });
  for (const group of groups) {
    if (opts.aborted?.()) break;
    // Scenarios whose leading `check` steps fail end here, before any container starts.
    const scenarios = group.scenarios.filter((spec) => {
      const refused = checkBeforeStart(spec, "", describeStep);
      if (!refused) return true;
      opts.progress?.scenarioStarted?.(spec.name, displayPath(spec.file));
      for (const step of refused.steps) opts.progress?.stepFinished?.(step);
      opts.progress?.scenarioFinished?.(refused);
      results.push(refused);
      return false;
    });
    if (!scenarios.length) continue;
    const first = scenarios[0];
    const name =
      scenarios.length > 1 ? `${first.environment.name}-${scenarios.length}-scenarios` : first.name;
    const runDir = path.resolve(opts.runsDir ?? "runs", `${stamp()}-${name}`);
    // Secrets in the operator's files: kept out of logs and reports, and out of the run folder once it is done.
    const secrets = operatorSecrets(first.environmentFile);
    for (const secret of secrets) registerSecret(secret);
    const envStart = now();
    let env: StartedEnvironment | undefined;
    let startError: unknown;
    try {
      env = await start(first.environment, {
        runDir,
        slackSeed: first.slackSeedFile ?? first.slackSeed,
        imageMap: opts.imageMap,
        progress: (l) => opts.progress?.line?.(l),
      });
      activeEnvironments.add(env);
      for (const [phase, ms] of Object.entries(env.timings)) opts.progress?.setupPhase?.(phase, ms);
      opts.onEnvironment?.(env, { ...group, scenarios });
    } catch (e) {
      startError = e;
    }
    if (first.expectStart) {
      // Grouped alone (see groupScenarios): the start itself is what this scenario is about.
      const verdict = judgeStart(
        env ? { started: true } : { started: false, error: startError },
        first.expectStart,
      );
      if (env) {
        await env.stop().catch(() => undefined);
        activeEnvironments.delete(env);
      }
      redactRunFolder(runDir, secrets, opts.progress);
      const step = startStepResult(verdict, envStart);
      opts.progress?.scenarioStarted?.(first.name, displayPath(first.file));
      opts.progress?.stepFinished?.(step);
      const r: ScenarioResult = {
        name: first.name,
        file: displayPath(first.file),
        environment: first.environment.name,
        outcome: step.outcome === "passed" ? "passed" : "failed",
        startedAt: envStart,
        durationMs: now() - envStart,
        setup: {},
        steps: [step],
        latency: [],
        runDir,
        logs: logsInFolder(runDir),
        ...(step.error ? { error: step.error } : {}),
      };
      opts.progress?.scenarioFinished?.(r);
      results.push(r);
      continue;
    }
    if (!env) {
      const error = redact(startError instanceof Error ? startError.message : String(startError));
      redactRunFolder(runDir, secrets, opts.progress);
      for (const spec of scenarios) {
        const r: ScenarioResult = {
          name: spec.name,
          file: displayPath(spec.file),
          environment: spec.environment.name,
          outcome: "failed",
          startedAt: envStart,
          durationMs: now() - envStart,
          setup: {},
          steps: [],
          latency: [],
          runDir,
          logs: logsInFolder(runDir),
          error: `environment did not start: ${error}`,
        };
        opts.progress?.scenarioStarted?.(spec.name, displayPath(spec.file));
        opts.progress?.scenarioFinished?.(r);
        results.push(r);
      }
      continue;
    }
    try {
      for (const spec of scenarios) {
        if (opts.aborted?.()) break;
        const r = await runScenarioIn(env, spec, opts.progress);
        // The first scenario of a group carries the environment's start-up time.
        if (spec === first) r.durationMs = now() - envStart;
        results.push(r);
      }
    } finally {
      if (opts.keep) kept.push(env);
      else {
        await env.stop().catch(() => undefined);
        activeEnvironments.delete(env);
        redactRunFolder(env.runDir, secrets, opts.progress);
      }
    }
  }
  const outcome: Outcome =
    results.length === 0 ? "skipped" : results.some((r) => r.outcome === "failed") ? "failed" : "passed";
  return {
    result: {
      version: 1,
      tool: { name: "bridge-harness", version: toolVersion() },
      startedAt,
      durationMs: now() - startedAt,
      outcome,
      scenarios: results,
    },
    kept,
  };
}

/** The service logs a run folder holds (name -> file), e.g. of an environment that did not start. */
function logsInFolder(dir: string): Record<string, string> {
  if (!existsSync(dir)) return {};
  return Object.fromEntries(
    readdirSync(dir)
      .filter((f) => f.endsWith(".log"))
      .map((f) => [f.replace(/\.log$/, ""), path.join(dir, f)]),
  );
}

/** Generated configs stay in a finished run's folder for reproduction, without their secrets (safe to upload). */
function redactRunFolder(dir: string, secrets: readonly string[], progress?: RunProgress): void {
  if (!existsSync(dir)) return;
  try {
    redactFolder(dir, secrets);
  } catch (e) {
    progress?.line?.(`could not redact ${dir}: ${(e as Error).message}`);
  }
}

/** Stops every environment runScenarios started (Ctrl-C). */
export async function stopActiveEnvironments(): Promise<void> {
  const envs = [...activeEnvironments];
  activeEnvironments.clear();
  await Promise.allSettled(envs.map((e) => e.stop()));
}
