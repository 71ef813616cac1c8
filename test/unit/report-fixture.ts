// A realistic RunResult for report tests and the sample report: two scenarios, eleven steps, one
// failure (with secrets in the error), 40 latency samples in both directions.
import { summarizeLatencies } from "../../src/report/latency.ts";
import type {
  Direction,
  LatencySample,
  RunResult,
  ScenarioResult,
  StepResult,
} from "../../src/report/model.ts";

export const FIXTURE_SECRET = "as_token_9f8e7d6c5b4a";
export const FIXTURE_SLACK_TOKEN = "xoxb-2222-3333-FixtureBotToken";
export const FIXTURE_APP_TOKEN = "xapp-1-A0FIXTURE-4444-abcdef0123";

const T0 = Date.UTC(2026, 10, 22, 3, 41, 6, 250);
const BUDGET = 5000;

/** Deterministic pseudo-random numbers in [0, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

interface StepSpec {
  id: string;
  type: string;
  title: string;
  durationMs: number;
  gapMs?: number;
  outcome?: StepResult["outcome"];
  error?: string;
  samples?: { direction: Direction; kind: string; latencies: number[] }[];
  details?: Record<string, unknown>;
}

function buildScenario(spec: {
  name: string;
  file: string;
  environment: string;
  startedAt: number;
  setup: Record<string, number>;
  runDir: string;
  steps: StepSpec[];
  error?: string;
}): ScenarioResult {
  const setupMs = spec.setup.total;
  let t = spec.startedAt + setupMs;
  const steps: StepResult[] = spec.steps.map((s) => {
    t += s.gapMs ?? 40;
    const startedAt = t;
    const latencies: LatencySample[] = [];
    for (const group of s.samples ?? []) {
      group.latencies.forEach((latencyMs, i) => {
        const startAt =
          startedAt + 20 + (i * (s.durationMs - latencyMs - 40)) / Math.max(1, group.latencies.length);
        latencies.push({
          stepId: s.id,
          direction: group.direction,
          kind: group.kind,
          startAt,
          endAt: startAt + latencyMs,
          latencyMs,
          budgetMs: BUDGET,
        });
      });
    }
    t += s.durationMs;
    const step: StepResult = {
      id: s.id,
      type: s.type,
      title: s.title,
      outcome: s.outcome ?? "passed",
      startedAt,
      durationMs: s.durationMs,
      latencies,
    };
    if (s.error) step.error = s.error;
    if (s.details) step.details = s.details;
    return step;
  });
  const outcome = steps.some((s) => s.outcome === "failed") || spec.error ? "failed" : "passed";
  const result: ScenarioResult = {
    name: spec.name,
    file: spec.file,
    environment: spec.environment,
    outcome,
    startedAt: spec.startedAt,
    durationMs: t + 600 - spec.startedAt,
    setup: spec.setup,
    steps,
    latency: summarizeLatencies(steps.flatMap((s) => s.latencies)),
    runDir: spec.runDir,
    logs: Object.fromEntries(
      ["postgres", "synapse", "fake-slack", "mautrix-slack"].map((svc) => [svc, `${spec.runDir}/${svc}.log`]),
    ),
  };
  if (spec.error) result.error = spec.error;
  return result;
}

function latencies(seed: number, n: number, base: number, spread: number): number[] {
  const r = rng(seed);
  return Array.from(
    { length: n },
    () => Math.round((base + r() * spread + (r() > 0.9 ? spread * 2 : 0)) * 10) / 10,
  );
}

/** `runRoot`: folder the run folders live in (default "runs"). */
export function fixtureRun(runRoot = "runs"): RunResult {
  const first = buildScenario({
    name: "messaging both ways",
    file: "scenarios/messaging.yaml",
    environment: "synapse-postgres",
    startedAt: T0,
    setup: {
      preflight: 35,
      network: 120,
      postgres: 1850,
      "fake-slack": 95,
      "bridge-config": 1420,
      synapse: 4210,
      bridge: 2630,
      total: 8990,
    },
    runDir: `${runRoot}/2026-11-22T03-41-06-messaging`,
    steps: [
      {
        id: "login",
        type: "login",
        title: "alice logs the bridge in to the Slack workspace",
        durationMs: 1420,
      },
      {
        id: "portal",
        type: "expect.portal",
        title: "portal for #dev-platform appears for alice",
        durationMs: 2310,
        details: { roomId: "!aBcD:harness.test", members: 3 },
      },
      {
        id: "hello-s2m",
        type: "slack.post",
        title: "bob posts 'hello' in #dev-platform",
        durationMs: 980,
        samples: [{ direction: "slack_to_matrix", kind: "message", latencies: [412.6, 398.4] }],
      },
      {
        id: "hello-m2s",
        type: "matrix.send",
        title: "alice replies 'hi bob' from Matrix",
        durationMs: 760,
        samples: [{ direction: "matrix_to_slack", kind: "message", latencies: [318.2, 344.9] }],
      },
      {
        id: "burst",
        type: "slack.post",
        title: "bob posts 12 messages in a burst",
        durationMs: 4120,
        samples: [{ direction: "slack_to_matrix", kind: "message", latencies: latencies(7, 12, 280, 420) }],
        details: { count: 12, ordered: true },
      },
      {
        id: "burst-back",
        type: "matrix.send",
        title: "alice sends 12 messages from Matrix",
        durationMs: 3890,
        samples: [{ direction: "matrix_to_slack", kind: "message", latencies: latencies(11, 12, 190, 360) }],
      },
    ],
  });
  const second = buildScenario({
    name: "reactions, edits and files",
    file: "scenarios/reactions-edits-files.yaml",
    environment: "synapse-postgres",
    startedAt: first.startedAt + first.durationMs + 900,
    setup: {
      preflight: 30,
      network: 110,
      postgres: 1720,
      "fake-slack": 90,
      "bridge-config": 1380,
      synapse: 3980,
      bridge: 2540,
      total: 8420,
    },
    runDir: `${runRoot}/2026-11-22T03-41-52-reactions-edits-files`,
    steps: [
      {
        id: "login",
        type: "login",
        title: "alice logs the bridge in to the Slack workspace",
        durationMs: 1380,
      },
      {
        id: "react-both",
        type: "slack.react",
        title: "bob reacts :+1:, alice reacts 🎉 from Matrix",
        durationMs: 2650,
        samples: [
          { direction: "slack_to_matrix", kind: "reaction", latencies: [388.1, 402.7] },
          { direction: "matrix_to_slack", kind: "reaction", latencies: [276.4, 301.9] },
        ],
      },
      {
        id: "edit",
        type: "slack.edit",
        title: "bob edits 'hello' to 'hello <world> & \"friends\"'",
        durationMs: 1710,
        samples: [
          { direction: "slack_to_matrix", kind: "edit", latencies: [655.3] },
          { direction: "matrix_to_slack", kind: "edit", latencies: [540.8] },
        ],
      },
      {
        id: "upload-9mb",
        type: "slack.upload",
        title: "bob uploads blob.bin (9 MB) in #dev-platform",
        durationMs: 7450,
        outcome: "failed",
        error:
          `Latency over budget: Slack -> Matrix file took 6840 ms (budget 5000 ms)\n` +
          `bridge answered files.info with token ${FIXTURE_SLACK_TOKEN}; appservice token ${FIXTURE_SECRET}; ` +
          `socket ${FIXTURE_APP_TOKEN}`,
        samples: [
          { direction: "slack_to_matrix", kind: "file", latencies: [6840.2] },
          { direction: "matrix_to_slack", kind: "file", latencies: [1290.5, 1422.4, 1388.0, 1501.7, 1275.3] },
        ],
        details: { size: 9437184, name: "blob.bin", note: `token ${FIXTURE_SLACK_TOKEN}` },
      },
      {
        id: "delete",
        type: "slack.delete",
        title: "bob deletes his message",
        durationMs: 0,
        gapMs: 10,
        outcome: "skipped",
      },
    ],
  });
  const scenarios = [first, second];
  const last = scenarios[scenarios.length - 1];
  return {
    version: 1,
    tool: { name: "bridge-harness", version: "0.1.0" },
    startedAt: T0 - 300,
    durationMs: last.startedAt + last.durationMs + 200 - (T0 - 300),
    outcome: "failed",
    scenarios,
  };
}
