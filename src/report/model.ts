// The result of running scenarios: produced by the runner (src/scenario), consumed by every report
// (src/report). The JSON report is this structure serialised; keep field names stable and documented
// in docs/report-format.md.

export type Direction = "slack_to_matrix" | "matrix_to_slack";
export type Outcome = "passed" | "failed" | "skipped";
/**
 * A step can also be an expected failure: it failed the way a known upstream problem makes it fail,
 * and its scenario is marked so (`expected_failure:`); the scenario does not fail because of it.
 */
export type StepOutcome = Outcome | "expected_failure";

/** The `expected_failure:` mark of a step, and whether the known problem showed this time. */
export interface ExpectedFailure {
  reason: string;
  /** The upstream issue, or where upstream the behaviour comes from. */
  upstream: string;
  /** True: the step failed as expected; false: it passed this time. */
  occurred: boolean;
}

export interface LatencySample {
  /** Step id that produced the sample. */
  stepId: string;
  direction: Direction;
  /** What travelled: "message", "reaction", "edit", "deletion", "thread_reply", "file". */
  kind: string;
  /** now() at the start (envelope written / Matrix send call) and end (Matrix client saw it / fake received the call). */
  startAt: number;
  endAt: number;
  latencyMs: number;
  budgetMs: number;
  /**
   * Id of the fault step whose window this message's journey overlapped (src/faults/): reported
   * apart from the rest and not held to the budget (delivery still is).
   */
  duringFault?: string;
}

export interface StepResult {
  id: string;
  /** Step type as written in the scenario ("slack.post", "matrix.send", "login", ...). */
  type: string;
  /** Human description ("alice posts 'hello' in #dev-platform"). */
  title: string;
  outcome: StepOutcome;
  startedAt: number;
  durationMs: number;
  /** Failure message (redacted), if failed (or failed as expected). */
  error?: string;
  /** Set on a step marked `expected_failure:`. */
  expectedFailure?: ExpectedFailure;
  latencies: LatencySample[];
  /** Extra facts worth showing (counts, states, prediction vs outcome ...). */
  details?: Record<string, unknown>;
}

export interface LatencySummary {
  direction: Direction;
  count: number;
  p50: number;
  p95: number;
  max: number;
  budgetMs: number;
  withinBudget: boolean;
}

export interface ScenarioResult {
  name: string;
  /** Path of the scenario file, relative to the working directory. */
  file: string;
  environment: string;
  outcome: Outcome;
  startedAt: number;
  durationMs: number;
  /** Environment start-up phases, ms. */
  setup: Record<string, number>;
  /** Per service: the image asked for, the image that ran, the version the service reports. */
  services?: Record<string, { asked: string; ran: string; version?: string }>;
  steps: StepResult[];
  latency: LatencySummary[];
  /** Folder with this scenario's configs and service logs. */
  runDir: string;
  /** Service name -> log file path. */
  logs: Record<string, string>;
  error?: string;
  /** Latency of the messages whose journey overlapped a fault window, per direction (not held to budgets). */
  latencyDuringFaults?: LatencySummary[];
  /** Faults the scenario's fault steps injected, in order. */
  faults?: FaultWindow[];
  /** What the availability probes measured (probe.start ... expect.availability). */
  availability?: AvailabilityResult;
  /**
   * What the environment states about itself: known issues of the software it runs and Matrix
   * client settings other than Element's, each with its reason (environments/*.yaml).
   */
  notes?: string[];
}

/** A fault a fault step injected, as the timeline shows it. Times are now() epoch ms. */
export interface FaultWindow {
  /** The fault step's id. */
  stepId: string;
  /** Its step type ("fault.kill", "fault.slack.outage", ...). */
  type: string;
  /** What it hit: "bridge", "homeserver", "postgres" or "slack". */
  target: string;
  title: string;
  /** The fault was injected. */
  startAt: number;
  /** The fault was taken away (service started again, unfrozen, reconnected; Slack fault cleared). */
  endAt?: number;
  /** The step saw the deployment healthy again (bridge ready, login CONNECTED, Matrix syncing). */
  recoveredAt?: number;
  /** The step failed as expected (`expected_failure:`): its reason. Probes lost in this window are put down to it. */
  knownProblem?: string;
  /**
   * The step is marked `expected_failure:` with `matches` but its own traffic did not show it: a
   * probe lost or duplicated in this window whose problem ("lost", "1 duplicated") matches is put
   * down to the known problem all the same (the fault that causes it now and then hit the probe).
   */
  mayCause?: { reason: string; matches: string };
}

/** One availability probe: a message sent one way, and when (if) it came out the other side. */
export interface ProbeRecord {
  direction: Direction;
  /** 1-based per direction. */
  n: number;
  sentAt: number;
  /** First arrival; absent when it never arrived (lost). */
  deliveredAt?: number;
  /** How many times it arrived (more than 1: duplicated). */
  arrivals: number;
}

export interface AvailabilityResult {
  /** Id of the probe.start step. */
  stepId: string;
  everyMs: number;
  /** Latency budget a probe must meet to count as available, per direction. */
  budgetMs: Record<Direction, number>;
  startAt: number;
  endAt: number;
  /** Share (0..1) of all probes delivered within their budget. */
  availability: number;
  /** The minimum expect.availability asserted (0..1), if any. */
  min?: number;
  directions: {
    direction: Direction;
    sent: number;
    withinBudget: number;
    /** Delivered, but over the budget. */
    late: number;
    lost: number;
    duplicated: number;
    /** Of the lost and duplicated: those in the window of a fault that failed as expected (a known problem). */
    knownProblem: number;
  }[];
  /**
   * Per fault and direction: from the fault's end to the arrival of the first probe sent after it
   * that met the budget (null: none did before the probes stopped).
   */
  recovery: {
    stepId: string;
    type: string;
    target: string;
    direction: Direction;
    recoveryMs: number | null;
  }[];
  probes: ProbeRecord[];
}

export interface RunResult {
  /** Format version of this structure. */
  version: 1;
  tool: { name: "bridge-harness"; version: string };
  startedAt: number;
  durationMs: number;
  outcome: Outcome;
  scenarios: ScenarioResult[];
}

/** "postgres:16 → bridge-harness/postgres:16 (PostgreSQL 16.15)": one service as it ran. */
export function describeService(s: { asked: string; ran: string; version?: string }): string {
  const ran = s.ran === s.asked ? s.asked : `${s.asked} → ${s.ran}`;
  return s.version ? `${ran} (${s.version})` : `${ran} (version not reported)`;
}

/** A failed step's details.bridgeLog (the bridge's warnings and errors while it ran), for text reports. */
export function bridgeLogLines(step: StepResult): string[] {
  const lines = step.details?.bridgeLog;
  if (!Array.isArray(lines) || !lines.length) return [];
  return ["bridge warnings and errors during the step:", ...lines.map((l) => `  ${String(l)}`)];
}
