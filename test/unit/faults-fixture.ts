// A run with faults, availability probes and an expected failure, for the report tests: two faults
// (a bridge kill that recovered, a PostgreSQL kill that lost a message as the known problem it is),
// probes each way every second with one late and one lost, and traffic samples during the faults.
import { computeAvailability } from "../../src/faults/availability.ts";
import { summarizeLatencies } from "../../src/report/latency.ts";
import type {
  Direction,
  FaultWindow,
  LatencySample,
  ProbeRecord,
  RunResult,
  ScenarioResult,
  StepResult,
} from "../../src/report/model.ts";

const T0 = Date.UTC(2026, 10, 30, 9, 0, 0);
const BUDGET = 5000;

function sample(
  stepId: string,
  direction: Direction,
  startAt: number,
  latencyMs: number,
  duringFault?: string,
) {
  const s: LatencySample = {
    stepId,
    direction,
    kind: "traffic",
    startAt,
    endAt: startAt + latencyMs,
    latencyMs,
    budgetMs: BUDGET,
  };
  if (duringFault) s.duringFault = duringFault;
  return s;
}

export const FAULTS: FaultWindow[] = [
  {
    stepId: "kill-bridge",
    type: "fault.kill",
    target: "bridge",
    title: "kill the bridge (SIGKILL), start it again",
    startAt: T0 + 10_000,
    endAt: T0 + 11_000,
    recoveredAt: T0 + 11_500,
  },
  {
    stepId: "kill-postgres",
    type: "fault.kill",
    target: "postgres",
    title: "kill the postgres (SIGKILL), start it again",
    startAt: T0 + 20_000,
    endAt: T0 + 21_000,
    recoveredAt: T0 + 22_000,
    knownProblem: "the bridge drops a message Synapse answered with HTTP 500",
  },
];

/** Probes every second from T0+5 s to T0+30 s; each direction's 11th is late, the s2m 16th lost. */
export function fixtureProbes(): ProbeRecord[] {
  const probes: ProbeRecord[] = [];
  for (let n = 1; n <= 26; n++)
    for (const direction of ["slack_to_matrix", "matrix_to_slack"] as const) {
      const sentAt = T0 + 4_000 + n * 1000;
      const latency = n === 6 ? 6_200 : 150;
      const lost = direction === "slack_to_matrix" && n === 16;
      probes.push({
        direction,
        n,
        sentAt,
        arrivals: lost ? 0 : 1,
        ...(lost ? {} : { deliveredAt: sentAt + latency }),
      });
    }
  return probes;
}

export function faultRun(): RunResult {
  const steps: StepResult[] = [
    {
      id: "probe",
      type: "probe.start",
      title: "probes every 1 s both ways in #dev-platform",
      outcome: "passed",
      startedAt: T0 + 5_000,
      durationMs: 2,
      latencies: [],
    },
    {
      id: "kill-bridge",
      type: "fault.kill",
      title: FAULTS[0].title,
      outcome: "passed",
      startedAt: T0 + 9_000,
      durationMs: 3_000,
      latencies: [
        sample("kill-bridge.1-slack.traffic", "slack_to_matrix", T0 + 9_100, 120),
        sample("kill-bridge.1-slack.traffic", "slack_to_matrix", T0 + 10_200, 1_900, "kill-bridge"),
      ],
    },
    {
      id: "kill-postgres",
      type: "fault.kill",
      title: FAULTS[1].title,
      outcome: "expected_failure",
      startedAt: T0 + 19_000,
      durationMs: 9_000,
      error:
        'kill-postgres.1-slack.traffic: 7 of 8 arrived; missing 4 — evidence: ERR Failed to send message part to Matrix error="M_UNKNOWN (HTTP 500)"',
      expectedFailure: {
        reason: FAULTS[1].knownProblem as string,
        upstream: "element-hq/synapse#9779",
        occurred: true,
      },
      latencies: [
        sample("kill-postgres.1-slack.traffic", "slack_to_matrix", T0 + 20_300, 2_600, "kill-postgres"),
      ],
    },
    {
      id: "availability",
      type: "expect.availability",
      title: "availability, nothing lost",
      outcome: "passed",
      startedAt: T0 + 30_500,
      durationMs: 1_000,
      latencies: [],
    },
  ];
  const all = steps.flatMap((s) => s.latencies);
  const availability = computeAvailability({
    stepId: "probe",
    everyMs: 1000,
    budgetMs: { slack_to_matrix: BUDGET, matrix_to_slack: BUDGET },
    startAt: T0 + 5_000,
    endAt: T0 + 30_000,
    probes: fixtureProbes(),
    faults: FAULTS,
  });
  const scenario: ScenarioResult = {
    name: "faults-services",
    file: "scenarios/faults-services.yaml",
    environment: "default",
    outcome: "passed",
    startedAt: T0,
    durationMs: 32_000,
    setup: { total: 4_000 },
    steps,
    latency: summarizeLatencies(all.filter((s) => !s.duringFault)),
    latencyDuringFaults: summarizeLatencies(all.filter((s) => s.duringFault)),
    runDir: "runs/2026-11-30T09-00-00-faults-services",
    logs: { bridge: "runs/2026-11-30T09-00-00-faults-services/mautrix-slack.log" },
    faults: FAULTS,
    availability,
  };
  return {
    version: 1,
    tool: { name: "bridge-harness", version: "0.1.0" },
    startedAt: T0,
    durationMs: 32_000,
    outcome: "passed",
    scenarios: [scenario],
  };
}
