// Pure parts of the scenario layer: durations and sizes, latency budgets and summaries, step ids,
// grouping of scenarios into shared environments, content helpers, and the committed JSON Schemas.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { renderSchemas } from "../../src/config/json-schema.ts";
import { checkScenarioFile, type ScenarioSpec } from "../../src/config/scenario.ts";
import { formatDuration, parseDuration, parseSize } from "../../src/config/units.ts";
import type { StartedEnvironment } from "../../src/environment/api.ts";
import { bridgeLogLines, type LatencySample } from "../../src/report/model.ts";
import {
  checkCount,
  deterministicBytes,
  flattenSlackMessage,
  generatePng,
  lineLevel,
  lineMatcher,
  mimetypeFor,
  reactionKey,
  slackNamesFor,
} from "../../src/scenario/content.ts";
import {
  budgetFor,
  budgetViolations,
  DEFAULT_SCENARIO_SET,
  groupScenarios,
  Scenario,
  StepFailure,
} from "../../src/scenario/runner.ts";
import { arrivalDisorder, steps, trafficTexts } from "../../src/scenario/steps.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");

describe("durations and sizes", () => {
  it.each([
    ["5s", 5000],
    ["500ms", 500],
    ["2m", 120_000],
    ["1.5s", 1500],
    [" 10 s ", 10_000],
    ["1h", 3_600_000],
    [250, 250],
    [0, 0],
  ])("%j -> %d ms", (input, ms) => expect(parseDuration(input)).toBe(ms));

  it.each(["fast", "5 seconds", "5", "-1s", "", "1.5 min", "s"])("%j is not a duration", (input) =>
    expect(parseDuration(input)).toBeUndefined(),
  );
  it("rejects non-finite and negative numbers and other types", () => {
    for (const v of [Number.NaN, Number.POSITIVE_INFINITY, -5, true, null, [5], { s: 5 }])
      expect(parseDuration(v)).toBeUndefined();
  });
  it("sizes are powers of 1024", () => {
    expect(parseSize("9MB")).toBe(9 * 1024 * 1024);
    expect(parseSize("512KB")).toBe(512 * 1024);
    expect(parseSize("1 GiB")).toBe(1024 ** 3);
    expect(parseSize(100)).toBe(100);
    expect(parseSize("9 megabytes")).toBeUndefined();
    expect(parseSize(1.5)).toBeUndefined();
  });
  it("formats for humans", () => {
    expect(formatDuration(850)).toBe("850 ms");
    expect(formatDuration(4200)).toBe("4.20 s");
    expect(formatDuration(12_340)).toBe("12.3 s");
    expect(formatDuration(150_000)).toBe("2.5 min");
  });
});

function sample(direction: LatencySample["direction"], latencyMs: number, budgetMs = 5000): LatencySample {
  return {
    stepId: "s",
    direction,
    kind: "message",
    startAt: 1000,
    endAt: 1000 + latencyMs,
    latencyMs,
    budgetMs,
  };
}

describe("latency budgets", () => {
  it("a step's own budget wins over the scenario's per-direction budgets", () => {
    const budgets = { slackToMatrixMs: 5000, matrixToSlackMs: 3000 };
    expect(budgetFor("slack_to_matrix", undefined, budgets)).toBe(5000);
    expect(budgetFor("matrix_to_slack", undefined, budgets)).toBe(3000);
    expect(budgetFor("matrix_to_slack", 10_000, budgets)).toBe(10_000);
  });
  it("a sample equal to its budget is within it; over it is a violation with a message", () => {
    expect(budgetViolations([sample("slack_to_matrix", 5000)])).toEqual([]);
    expect(budgetViolations([sample("slack_to_matrix", 6200), sample("matrix_to_slack", 12)])).toEqual([
      "Slack → Matrix message took 6.20 s, over the 5.00 s budget",
    ]);
  });
});

/** A stand-in environment for driving the Scenario class without containers. */
function fakeEnv(): StartedEnvironment {
  return {
    spec: { name: "test" },
    runDir: "/tmp/run",
    homeserver: { logFile: "/tmp/run/synapse.log", serverName: "localhost" },
    bridge: {
      logFile: "/tmp/run/mautrix-slack.log",
      logLines: async () => ["2026-01-01T00:00:00Z INF Bridge started"],
    },
    timings: {},
  } as unknown as StartedEnvironment;
}

describe("Scenario (the TypeScript API)", () => {
  it("ids default to <index>-<type>; duplicates are refused", async () => {
    const sc = new Scenario(fakeEnv(), { throwOnFailure: false });
    const a = await sc.run(steps.expectLogs({ present: ["Bridge started"], since: "start" }));
    const b = await sc.run(steps.expectLogs({ max_level: "warn" }, { id: "quiet" }));
    expect([a.id, b.id]).toEqual(["1-expect.logs", "quiet"]);
    expect(a.outcome).toBe("passed");
    await expect(sc.run(steps.expectLogs({}, { id: "quiet" }))).rejects.toThrow('duplicate step id "quiet"');
  });

  it("a failed step throws StepFailure by default and later steps are skipped", async () => {
    const sc = new Scenario(fakeEnv(), { name: "demo" });
    await expect(sc.run(steps.expectLogs({ present: ["panic: nope"] }))).rejects.toBeInstanceOf(StepFailure);
    const later = await sc.run(steps.expectLogs({})).catch((e: StepFailure) => e.result);
    expect(later.outcome).toBe("skipped");
    const result = sc.finish();
    expect(result.outcome).toBe("failed");
    expect(result.error).toBe('step 1-expect.logs failed: bridge log: no line matches "panic: nope"');
    expect(result.steps.map((s) => s.outcome)).toEqual(["failed", "skipped"]);
    expect(result.logs).toEqual({ homeserver: "/tmp/run/synapse.log", bridge: "/tmp/run/mautrix-slack.log" });
  });

  it("log assertions see only the lines logged since the scenario started, unless since: start", async () => {
    const sc = new Scenario(fakeEnv(), { throwOnFailure: false, continueOnFailure: true });
    expect((await sc.run(steps.expectLogs({ present: ["Bridge started"] }))).error).toBe(
      'bridge log: no line matches "Bridge started"',
    );
    expect((await sc.run(steps.expectLogs({ present: ["Bridge started"], since: "start" }))).outcome).toBe(
      "passed",
    );
  });

  it("continueOnFailure runs the remaining steps", async () => {
    const sc = new Scenario(fakeEnv(), { continueOnFailure: true, throwOnFailure: false });
    await sc.run(steps.expectLogs({ absent: ["Bridge started"], since: "start" }));
    const next = await sc.run(steps.expectLogs({ present: ["/Bridge st.rted/"], since: "start" }));
    expect(next.outcome).toBe("passed");
  });

  it("a failed step carries the bridge's warnings and errors logged while it ran, not those before", async () => {
    // Each read of the log finds one more line: a bridge that keeps complaining.
    const lines = ["2026-01-01T00:00:00Z WRN before the step", "2026-01-01T00:00:00Z INF Bridge started"];
    const env = fakeEnv();
    env.bridge.logLines = async () => {
      lines.push(`2026-01-01T00:00:01Z ${lines.length % 2 ? "ERR" : "DBG"} read ${lines.length}`);
      return [...lines];
    };
    const sc = new Scenario(env, { throwOnFailure: false, continueOnFailure: true });
    const failed = await sc.run(steps.expectLogs({ present: ["panic: nope"] }));
    const said = failed.details?.bridgeLog as string[];
    expect(said.length).toBeGreaterThan(0);
    expect(said.every((l) => / ERR read \d+$/.test(l))).toBe(true);
    expect(bridgeLogLines(failed)[0]).toBe("bridge warnings and errors during the step:");
    const passed = await sc.run(steps.expectLogs({ present: ["Bridge started"], since: "start" }));
    expect(passed.details?.bridgeLog).toBeUndefined();
  });

  it("an unknown step type or a bad budget fails the step, not the process", async () => {
    const sc = new Scenario(fakeEnv(), { throwOnFailure: false, continueOnFailure: true });
    expect((await sc.run({ type: "nope", args: {} })).error).toBe('unknown step type "nope"');
    expect((await sc.run({ ...steps.expectLogs({}), budget: "fast" })).error).toBe(
      "budget: not a duration: fast",
    );
  });
});

describe("traffic steps", () => {
  it("number their messages and read the numbers back, only their own", () => {
    const t = trafficTexts("5-slack.traffic", 1000);
    expect(t.text(7)).toBe("traffic 5-slack.traffic 7/1000");
    expect(t.index(t.text(7))).toBe(7);
    expect(t.index("traffic 5-slack.traffic 7/999")).toBeUndefined();
    expect(t.index("traffic 6-slack.traffic 7/1000")).toBeUndefined();
    expect(t.index("traffic 5-slack.traffic 7/1000 edited")).toBeUndefined();
    expect(t.index(undefined)).toBeUndefined();
  });

  it("count repeats and late arrivals", () => {
    expect(arrivalDisorder([1, 2, 3])).toEqual({ duplicates: 0, outOfOrder: 0 });
    expect(arrivalDisorder([1, 3, 2, 4])).toEqual({ duplicates: 0, outOfOrder: 1 });
    expect(arrivalDisorder([1, 2, 2, 3, 1])).toEqual({ duplicates: 2, outOfOrder: 0 });
  });
});

describe("grouping scenarios into shared environments", () => {
  const spec = (file: string, env: string, seed: unknown, stepTypes: string[] = []) =>
    ({
      file,
      environmentFile: env,
      slackSeed: seed,
      steps: stepTypes.map((type) => ({ type })),
    }) as unknown as ScenarioSpec;
  it("same environment file and same seed share; order of first appearance is kept", () => {
    const a = spec("a", "/e/default.yaml", { users: ["bob"], team: { name: "x" } });
    const b = spec("b", "/e/other.yaml", { users: ["bob"] });
    const c = spec("c", "/e/default.yaml", { team: { name: "x" }, users: ["bob"] });
    const d = spec("d", "/e/default.yaml", { users: ["carol"] });
    expect(groupScenarios([a, b, c, d]).map((g) => g.scenarios.map((s) => s.file))).toEqual([
      ["a", "c"],
      ["b"],
      ["d"],
    ]);
    expect(groupScenarios([a, c], { share: false })).toHaveLength(2);
  });
  it("a scenario that changes versions or config, or whose start must fail, runs alone", () => {
    const seed = { users: ["bob"] };
    const plain = spec("plain", "/e/default.yaml", seed, ["slack.post"]);
    const upgrade = spec("upgrade", "/e/default.yaml", seed, ["slack.post", "bridge.upgrade"]);
    const mas = spec("mas", "/e/default.yaml", seed, ["auth.config_change"]);
    const start = { ...spec("start", "/e/default.yaml", seed), expectStart: [] } as ScenarioSpec;
    const later = spec("later", "/e/default.yaml", seed, ["matrix.send"]);
    expect(
      groupScenarios([plain, upgrade, mas, start, later]).map((g) => g.scenarios.map((s) => s.file)),
    ).toEqual([["plain", "later"], ["upgrade"], ["mas"], ["start"]]);
  });
  it("the shipped default set runs in two environments: the shared workspace and direct-messages' own", async () => {
    const names = DEFAULT_SCENARIO_SET;
    const specs = await Promise.all(
      names.map(async (n) => (await checkScenarioFile(path.join(ROOT, "scenarios", `${n}.yaml`))).spec!),
    );
    expect(groupScenarios(specs).map((g) => g.scenarios.map((s) => s.name))).toEqual([
      names.filter((n) => n !== "direct-messages"),
      ["direct-messages"],
    ]);
  });
});

describe("content helpers", () => {
  it("flattens rich_text blocks: text, styles, links, mentions", () => {
    const blocks = [
      {
        type: "rich_text",
        elements: [
          {
            type: "rich_text_section",
            elements: [
              { type: "text", text: "bold", style: { bold: true } },
              { type: "text", text: " " },
              { type: "text", text: "it", style: { italic: true, code: false } },
              { type: "link", url: "https://example.org", text: "a link" },
              { type: "user", user_id: "U0CAROL" },
            ],
          },
        ],
      },
    ];
    const flat = flattenSlackMessage({ blocks: JSON.stringify(blocks) });
    expect(flat.text).toBe("bold ita link@U0CAROL");
    expect([...flat.styles].sort()).toEqual(["bold", "italic"]);
    expect(flat.links).toEqual(["https://example.org"]);
    expect(flat.mentions).toEqual(["U0CAROL"]);
    expect(flattenSlackMessage({ text: "hi <@U1> <https://x.org|x>" })).toMatchObject({
      mentions: ["U1"],
      links: ["https://x.org"],
    });
  });

  it("knows log levels of the bridge, Synapse and PostgreSQL", () => {
    expect(lineLevel("2026-11-22T03:41:06Z INF Starting bridge")).toBe("info");
    expect(
      lineLevel(
        "\u001b[90m2026-11-22T03:41:06Z\u001b[0m \u001b[31mERR\u001b[0m Error in socket mode connection",
      ),
    ).toBe("error");
    expect(lineLevel('{"level":"warn","message":"x"}')).toBe("warn");
    expect(lineLevel("2026-11-22 03:41:06,123 - synapse.app - 42 - WARNING - main - x")).toBe("warn");
    expect(lineLevel("2026-11-22 03:41:06.123 UTC [1] FATAL:  role does not exist")).toBe("fatal");
    expect(lineLevel("    at continuation")).toBeUndefined();
    expect(lineMatcher("/ERR|FTL/")("x FTL y")).toBe(true);
    expect(lineMatcher("(literal)")("a (literal) b")).toBe(true);
  });

  it("maps emoji both ways", () => {
    expect(reactionKey("thumbsup")).toBe("👍");
    expect(reactionKey("👍")).toBe("👍");
    expect(slackNamesFor("👍")?.sort()).toEqual(["+1", "thumbsup"]);
    expect(slackNamesFor("🦜")).toBeUndefined();
  });

  it("counts, mimetypes and generated files", () => {
    expect(checkCount(3, { min: 1 })).toBe(true);
    expect(checkCount(3, { min: 1, max: 2 })).toBe(false);
    expect(mimetypeFor("diagram.PNG")).toBe("image/png");
    expect(mimetypeFor("dump.bin")).toBe("application/octet-stream");
    expect(deterministicBytes(10)).toEqual(deterministicBytes(10));
    expect(deterministicBytes(9 * 1024 * 1024)).toHaveLength(9 * 1024 * 1024);
    const png = generatePng(4, 3);
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  });
});

describe("JSON Schemas", () => {
  it("the committed schema/*.schema.json equal what the field specs generate (bridge-harness schema --write)", () => {
    for (const [name, text] of Object.entries(renderSchemas()))
      expect(readFileSync(path.join(ROOT, "schema", name), "utf8")).toBe(text);
  });
});
