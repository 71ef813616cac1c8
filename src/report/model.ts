// The result of running scenarios: produced by the runner (src/scenario), consumed by every report
// (src/report). The JSON report is this structure serialised; keep field names stable and documented
// in docs/report-format.md.

export type Direction = "slack_to_matrix" | "matrix_to_slack";
export type Outcome = "passed" | "failed" | "skipped";

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
}

export interface StepResult {
  id: string;
  /** Step type as written in the scenario ("slack.post", "matrix.send", "login", ...). */
  type: string;
  /** Human description ("alice posts 'hello' in #dev-platform"). */
  title: string;
  outcome: Outcome;
  startedAt: number;
  durationMs: number;
  /** Failure message (redacted), if failed. */
  error?: string;
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
  /**
   * What the environment states about itself: known issues of the software it runs and Matrix
   * client settings other than Element's, each with its reason (environments/*.yaml).
   */
  notes?: string[];
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
