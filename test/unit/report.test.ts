import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  createProgressPrinter,
  percentile,
  renderHtml,
  renderJson,
  renderJunit,
  summarizeLatencies,
  writeReports,
} from "../../src/report/index.ts";
import type { LatencySample, RunResult } from "../../src/report/model.ts";
import { scenarioLogs } from "../../src/report/paths.ts";
import { xmlEscape } from "../../src/report/xml.ts";
import { clearSecrets, registerSecret } from "../../src/util/redact.ts";
import { FIXTURE_APP_TOKEN, FIXTURE_SECRET, FIXTURE_SLACK_TOKEN, fixtureRun } from "./report-fixture.ts";

afterEach(() => clearSecrets());

function sample(direction: LatencySample["direction"], latencyMs: number, budgetMs = 5000): LatencySample {
  return { stepId: "s", direction, kind: "message", startAt: 0, endAt: latencyMs, latencyMs, budgetMs };
}

/** Undoes xmlEscape/xmlAttr for the assertions. */
function unescapeXml(text: string): string {
  return text
    .replace(/&#(\d+);/g, (_, n) => String.fromCharCode(Number(n)))
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, "&");
}

describe("percentile (nearest rank)", () => {
  it("follows the nearest-rank definition", () => {
    const values = [15, 20, 35, 40, 50];
    expect(percentile(values, 5)).toBe(15);
    expect(percentile(values, 30)).toBe(20);
    expect(percentile(values, 40)).toBe(20);
    expect(percentile(values, 50)).toBe(35);
    expect(percentile(values, 100)).toBe(50);
    expect(percentile(values, 0)).toBe(15);
  });

  it("does not interpolate and ignores input order", () => {
    expect(percentile([4, 1, 3, 2], 50)).toBe(2);
    expect(percentile([10, 1], 50)).toBe(1);
    expect(percentile([7], 95)).toBe(7);
    const hundred = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(hundred, 95)).toBe(95);
    expect(percentile(hundred, 50)).toBe(50);
  });

  it("returns NaN for no values and rejects out-of-range p", () => {
    expect(percentile([], 50)).toBeNaN();
    expect(() => percentile([1], 101)).toThrow(RangeError);
    expect(() => percentile([1], -1)).toThrow(RangeError);
  });

  it("does not modify the input", () => {
    const values = [3, 1, 2];
    percentile(values, 50);
    expect(values).toEqual([3, 1, 2]);
  });
});

describe("summarizeLatencies", () => {
  it("summarises each direction with samples, Slack->Matrix first", () => {
    const samples = [
      sample("matrix_to_slack", 100),
      ...[300, 100, 200, 500, 400].map((v) => sample("slack_to_matrix", v)),
    ];
    expect(summarizeLatencies(samples)).toEqual([
      {
        direction: "slack_to_matrix",
        count: 5,
        p50: 300,
        p95: 500,
        max: 500,
        budgetMs: 5000,
        withinBudget: true,
      },
      {
        direction: "matrix_to_slack",
        count: 1,
        p50: 100,
        p95: 100,
        max: 100,
        budgetMs: 5000,
        withinBudget: true,
      },
    ]);
  });

  it("is out of budget when max exceeds it, within at exactly the budget", () => {
    expect(summarizeLatencies([sample("slack_to_matrix", 5000)])[0].withinBudget).toBe(true);
    expect(summarizeLatencies([sample("slack_to_matrix", 5000.1)])[0].withinBudget).toBe(false);
  });

  it("returns nothing for no samples", () => {
    expect(summarizeLatencies([])).toEqual([]);
  });

  it("uses the strictest budget and judges each sample against its own", () => {
    const [s] = summarizeLatencies([
      sample("slack_to_matrix", 400, 500),
      sample("slack_to_matrix", 8000, 10_000),
    ]);
    expect(s.budgetMs).toBe(500);
    expect(s.withinBudget).toBe(true);
  });
});

describe("JUnit XML", () => {
  it("has one testsuite per scenario and one testcase per step", () => {
    const xml = renderJunit(fixtureRun(), { cwd: "/nowhere" });
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites ')).toBe(true);
    expect(xml.match(/<testsuite /g)).toHaveLength(2);
    expect(xml.match(/<testcase /g)).toHaveLength(11);
    expect(xml.match(/<failure /g)).toHaveLength(1);
    expect(xml.match(/<skipped/g)).toHaveLength(1);
    expect(xml).toMatch(
      /<testsuites name="bridge-harness 0.1.0" tests="11" failures="1" errors="0" skipped="1"/,
    );
    expect(xml).toMatch(
      /<testsuite name="messaging both ways" tests="6" failures="0" errors="0" skipped="0"/,
    );
    expect(xml).toContain('time="4.120"');
  });

  it("points at the run folder and attaches every service log", () => {
    const xml = renderJunit(fixtureRun("/ci/work/runs"), { cwd: "/ci/work" });
    expect(xml).toContain("Run folder (configs and logs): runs/2026-11-22T03-41-52-reactions-edits-files");
    for (const service of ["postgres", "synapse", "fake-slack", "mautrix-slack"]) {
      expect(xml).toContain(`[[ATTACHMENT|runs/2026-11-22T03-41-52-reactions-edits-files/${service}.log]]`);
    }
    const failed = xml.slice(
      xml.indexOf('<testcase name="upload-9mb'),
      xml.indexOf('<testcase name="delete'),
    );
    expect(failed).toContain(
      "[[ATTACHMENT|runs/2026-11-22T03-41-52-reactions-edits-files/mautrix-slack.log]]",
    );
    expect(failed).toMatch(/<failure message="Latency over budget: Slack -&gt; Matrix file took 6840 ms/);
    // Outside the working directory paths stay absolute.
    expect(renderJunit(fixtureRun("/elsewhere/runs"), { cwd: "/ci/work" })).toContain(
      "[[ATTACHMENT|/elsewhere/runs/2026-11-22T03-41-06-messaging/synapse.log]]",
    );
  });

  it("escapes nasty strings in names, attributes and text", () => {
    const nasty = `<script>&"quotes"'apos'</testcase>]]><!-- \u0001\u0000\u001b[31m \uD800 ${"\n"}line2`;
    const run = fixtureRun();
    const scenario = run.scenarios[1];
    scenario.name = nasty;
    scenario.steps[3].error = nasty;
    scenario.steps[3].title = nasty;
    scenario.steps[3].type = nasty;
    scenario.logs[nasty] = `/tmp/${nasty}.log`;
    const xml = renderJunit(run);
    // Only markup from the writer: every "<" starts a known element or declaration.
    const tags = [...xml.matchAll(/<\/?([A-Za-z?!][^\s>/]*)/g)].map((m) => m[1]);
    expect(new Set(tags)).toEqual(
      new Set([
        "?xml",
        "testsuites",
        "testsuite",
        "properties",
        "property",
        "testcase",
        "failure",
        "skipped",
        "system-out",
      ]),
    );
    expect(xml).not.toMatch(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/);
    expect(xml).not.toContain("]]>");
    expect(xml).not.toContain("<!--");
    // Attribute values contain no raw quotes, "<" or newlines, and decode back to the text.
    const names = [...xml.matchAll(/<testsuite name="([^"]*)"/g)].map((m) => m[1]);
    expect(names).toHaveLength(2);
    expect(names[1]).not.toMatch(/[<\n]/);
    expect(unescapeXml(names[1])).toBe(nasty.replace(/[\u0000\u0001\u001b]|\uD800/g, "\uFFFD"));
    // Entities are well-formed.
    expect(xml).not.toMatch(/&(?!(amp|lt|gt|quot|apos|#\d+);)/);
  });

  it("adds a failed testcase when the scenario failed without a failed step", () => {
    const run = fixtureRun();
    const scenario = run.scenarios[0];
    scenario.outcome = "failed";
    scenario.error = "synapse did not become healthy within 60 s";
    scenario.steps = [];
    const xml = renderJunit(run);
    expect(xml).toMatch(/<testsuite name="messaging both ways" tests="1" failures="1"/);
    expect(xml).toContain('<failure message="synapse did not become healthy within 60 s" type="scenario">');
  });

  it("xmlEscape replaces characters XML forbids", () => {
    expect(xmlEscape("a\u0000b\u0008c\td\ne")).toBe("a\uFFFDb\uFFFDc\td\ne");
    expect(xmlEscape("😀")).toBe("😀");
  });
});

describe("services: the image asked for, the image that ran, the version it reports", () => {
  const run = fixtureRun();
  const [first] = run.scenarios;
  if (first)
    first.services = {
      postgres: { asked: "postgres:16", ran: "bridge-harness/postgres:16", version: "PostgreSQL 16.15" },
      homeserver: {
        asked: "matrixdotorg/synapse:v1.163.2",
        ran: "bridge-harness/synapse:1.163.2",
        version: "Synapse 1.163.2",
      },
      bridge: { asked: "dock.mau.dev/mautrix/slack:v0.2.0", ran: "bridge-harness/mautrix-slack:v0.2.0" },
    };

  it("in every report", () => {
    const xml = unescapeXml(renderJunit(run, { cwd: "/" }));
    expect(xml).toContain('name="service.postgres.asked" value="postgres:16"');
    expect(xml).toContain('name="service.postgres.ran" value="bridge-harness/postgres:16"');
    expect(xml).toContain('name="service.postgres.version" value="PostgreSQL 16.15"');
    expect(xml).not.toContain("service.bridge.version");
    const json = JSON.parse(renderJson(run));
    expect(json.scenarios[0].services.homeserver).toEqual(first?.services?.homeserver);
    const html = renderHtml(run, { dir: "reports" });
    expect(html).toContain("postgres:16 → bridge-harness/postgres:16 (PostgreSQL 16.15)");
    expect(html).toContain(
      "dock.mau.dev/mautrix/slack:v0.2.0 → bridge-harness/mautrix-slack:v0.2.0 (version not reported)",
    );
    let out = "";
    const stream = {
      write(t: string) {
        out += t;
        return true;
      },
    } as unknown as NodeJS.WritableStream;
    const p = createProgressPrinter(stream, { color: false });
    if (first) p.scenarioFinished(first);
    expect(out).toMatch(
      /homeserver\s+matrixdotorg\/synapse:v1\.163\.2 → bridge-harness\/synapse:1\.163\.2 \(Synapse 1\.163\.2\)/,
    );
  });

  it("versions are read from what the services say", async () => {
    const { bridgeVersion, postgresVersion } = await import("../../src/environment/services.ts");
    expect(postgresVersion("PostgreSQL 15.14 (Debian 15.14-0+deb12u1) on x86_64-pc-linux-gnu")).toBe(
      "PostgreSQL 15.14",
    );
    expect(
      bridgeVersion([
        "[bridge-harness] starting bridge-harness/mautrix-slack:v0.2.0",
        "2026-11-30T12:19:56.303Z INF Initializing bridge built_at=0001-01-01T00:00:00Z go_version=go1.26.8 name=mautrix-slack version=0.2.0",
      ]),
    ).toBe("mautrix-slack 0.2.0");
  });
});

describe("JSON report", () => {
  it("is the RunResult, pretty-printed, keys in documented order", () => {
    const run = fixtureRun();
    const text = renderJson(run);
    expect(text.endsWith("}\n")).toBe(true);
    expect(text).toContain('\n  "version": 1,');
    const parsed = JSON.parse(text) as RunResult;
    expect(Object.keys(parsed)).toEqual([
      "version",
      "tool",
      "outcome",
      "startedAt",
      "durationMs",
      "scenarios",
    ]);
    expect(Object.keys(parsed.scenarios[0])).toEqual([
      "name",
      "file",
      "environment",
      "outcome",
      "startedAt",
      "durationMs",
      "setup",
      "steps",
      "latency",
      "runDir",
      "logs",
    ]);
    expect(Object.keys(parsed.scenarios[0].steps[2].latencies[0])).toEqual([
      "stepId",
      "direction",
      "kind",
      "startAt",
      "endAt",
      "latencyMs",
      "budgetMs",
    ]);
    expect(parsed.scenarios.flatMap((s) => s.steps.flatMap((st) => st.latencies))).toHaveLength(40);
    expect(parsed.scenarios[0].steps[2].latencies).toEqual(run.scenarios[0].steps[2].latencies);
  });

  it("does not depend on the insertion order of keys", () => {
    const run = fixtureRun();
    const reversed = JSON.parse(JSON.stringify(run), function (this: unknown, _k, v) {
      if (v && typeof v === "object" && !Array.isArray(v)) {
        return Object.fromEntries(Object.entries(v).reverse());
      }
      return v;
    }) as RunResult;
    expect(renderJson(reversed)).toBe(renderJson(run));
  });

  it("keeps fields added later (after the known ones, sorted) and turns NaN into null", () => {
    const run = fixtureRun() as RunResult & { zeta?: number; alpha?: string };
    run.zeta = 1;
    run.alpha = "a";
    run.scenarios[0].latency[0].p50 = Number.NaN;
    const parsed = JSON.parse(renderJson(run));
    expect(Object.keys(parsed).slice(-2)).toEqual(["alpha", "zeta"]);
    expect(parsed.scenarios[0].latency[0].p50).toBeNull();
  });
});

describe("redaction", () => {
  it("no secret reaches any report file", async () => {
    registerSecret(FIXTURE_SECRET);
    const run = fixtureRun();
    run.scenarios[0].error = `setup saw ${FIXTURE_SECRET}`;
    run.scenarios[0].steps[0].details = { [`key-${FIXTURE_SECRET}`]: [FIXTURE_APP_TOKEN] };
    run.scenarios[0].logs.bridge = `/tmp/${FIXTURE_SLACK_TOKEN}/bridge.log`;
    const dir = await mkdtemp(join(tmpdir(), "report-redact-"));
    const written = await writeReports(run, { dir });
    expect(Object.keys(written).sort()).toEqual(["html", "json", "junit", "markdown"]);
    for (const path of Object.values(written)) {
      const text = await readFile(path as string, "utf8");
      expect(text).not.toContain(FIXTURE_SECRET);
      expect(text).not.toContain(FIXTURE_SLACK_TOKEN.slice(5));
      expect(text).not.toContain(FIXTURE_APP_TOKEN.slice(5));
      expect(text).toContain("[REDACTED]");
    }
    // The input is not modified.
    expect(run.scenarios[0].error).toContain(FIXTURE_SECRET);
  });

  it("no secret reaches the terminal", () => {
    registerSecret(FIXTURE_SECRET);
    const run = fixtureRun();
    let text = "";
    const out = {
      write(chunk: string) {
        text += chunk;
        return true;
      },
    } as unknown as NodeJS.WritableStream;
    const printer = createProgressPrinter(out, { color: false });
    const scenario = run.scenarios[1];
    printer.scenarioStarted(`${scenario.name} ${FIXTURE_SECRET}`, scenario.file);
    for (const step of scenario.steps) {
      printer.stepStarted(step);
      printer.stepFinished(step);
    }
    printer.scenarioFinished(scenario);
    expect(text).toContain("xoxb-[REDACTED]");
    expect(text).not.toContain(FIXTURE_SECRET);
    expect(text).not.toContain(FIXTURE_SLACK_TOKEN.slice(5));
    expect(text).not.toContain(FIXTURE_APP_TOKEN.slice(5));
  });
});

describe("terminal progress", () => {
  // Colour defaults depend on these; the tests set them explicitly.
  const savedEnv = { NO_COLOR: process.env.NO_COLOR, FORCE_COLOR: process.env.FORCE_COLOR };
  beforeEach(() => {
    delete process.env.NO_COLOR;
    delete process.env.FORCE_COLOR;
  });
  afterEach(() => {
    for (const [k, v] of Object.entries(savedEnv)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  function capture(opts: { color?: boolean; live?: boolean }) {
    let text = "";
    const out = {
      write(chunk: string) {
        text += chunk;
        return true;
      },
    } as unknown as NodeJS.WritableStream;
    return { printer: createProgressPrinter(out, { cwd: "/nowhere", ...opts }), text: () => text };
  }

  function play(printer: ReturnType<typeof createProgressPrinter>, run: RunResult) {
    for (const scenario of run.scenarios) {
      printer.scenarioStarted(scenario.name, scenario.file);
      for (const [phase, ms] of Object.entries(scenario.setup)) printer.setupPhase(phase, ms);
      for (const step of scenario.steps) {
        printer.stepStarted(step);
        printer.stepFinished(step);
      }
      printer.scenarioFinished(scenario);
    }
    printer.runFinished(run, { junit: "/nowhere/reports/junit.xml" });
  }

  it("prints one line per step with outcome, duration and latency, and the log files on failure", () => {
    const { printer, text } = capture({});
    play(printer, fixtureRun());
    const out = text();
    expect(out).not.toContain("\u001b[");
    const stepLines = out.split("\n").filter((l) => /^ {2}[✓✗○] /.test(l));
    expect(stepLines).toHaveLength(11);
    expect(out).toMatch(/✓ hello-s2m .* 980 ms {2}Slack → Matrix 2× message p50 398 ms max 413 ms/);
    expect(out).toMatch(/✗ upload-9mb .* 7\.45 s {2}Slack → Matrix file 6\.84 s > budget 5\.00 s/);
    expect(out).toContain("      Latency over budget: Slack -> Matrix file took 6840 ms (budget 5000 ms)");
    expect(out).toMatch(/Slack → Matrix {2}4 {2}403 ms {2}6\.84 s {2}6\.84 s {2}5\.00 s {2}OVER BUDGET/);
    expect(out).toContain("Run folder: runs/2026-11-22T03-41-52-reactions-edits-files");
    expect(out).toContain("mautrix-slack  runs/2026-11-22T03-41-52-reactions-edits-files/mautrix-slack.log");
    // A passing scenario does not print its run folder.
    expect(out).not.toContain("Run folder: runs/2026-11-22T03-41-06-messaging");
    expect(out).toContain("setup 8.99 s  preflight 35 ms · network 120 ms · postgres 1.85 s");
    expect(out).toContain("2 scenario(s): 1 passed, 1 failed, 0 skipped");
    expect(out).toContain("junit report: reports/junit.xml");
  });

  it("follows NO_COLOR and FORCE_COLOR when colours are not set explicitly", () => {
    process.env.FORCE_COLOR = "1";
    const forced = capture({});
    play(forced.printer, fixtureRun());
    expect(forced.text()).toContain("\u001b[");
    process.env.NO_COLOR = "1";
    const plain = capture({});
    play(plain.printer, fixtureRun());
    expect(plain.text()).not.toContain("\u001b[");
  });

  it("uses colours and rewrites the running line only when asked (TTY)", () => {
    const { printer, text } = capture({ color: true, live: true });
    play(printer, fixtureRun());
    expect(text()).toContain("\u001b[32m✓\u001b[0m");
    expect(text()).toContain("\r\u001b[2K");
    expect(text()).toContain("… burst");
  });
});

describe("log discovery", () => {
  it("lists every *.log in the run folder next to the declared ones, in every report", async () => {
    const root = await mkdtemp(join(tmpdir(), "report-logs-"));
    const run = fixtureRun(root);
    const scenario = run.scenarios[1];
    await mkdir(scenario.runDir, { recursive: true });
    for (const name of ["postgres.log", "mas.log", "config.yaml"])
      await writeFile(join(scenario.runDir, name), "x\n");
    scenario.logs = {
      homeserver: join(scenario.runDir, "synapse.log"),
      db: join(scenario.runDir, "postgres.log"),
    };
    expect(scenarioLogs(scenario)).toEqual({
      db: join(scenario.runDir, "postgres.log"),
      homeserver: join(scenario.runDir, "synapse.log"),
      mas: join(scenario.runDir, "mas.log"),
    });
    const xml = renderJunit(run, { cwd: "/" });
    expect(xml).toContain(`[[ATTACHMENT|${join(scenario.runDir, "mas.log").slice(1)}]]`);
    const html = renderHtml(run, { dir: root });
    expect(html).toContain(`href="2026-11-22T03-41-52-reactions-edits-files/mas.log"`);
    // A missing run folder is not an error.
    expect(scenarioLogs({ runDir: join(root, "missing"), logs: {} })).toEqual({});
  });
});

describe("terminal ordering", () => {
  it("prints setup phases reported before the scenario header after it, and free lines", () => {
    let text = "";
    const out = {
      write(chunk: string) {
        text += chunk;
        return true;
      },
    } as unknown as NodeJS.WritableStream;
    const printer = createProgressPrinter(out, { color: false });
    printer.line("starting synapse");
    printer.setupPhase("postgres", 1500);
    printer.setupPhase("synapse", 4000);
    printer.scenarioStarted("s", "s.yaml");
    printer.stepStarted({ id: "a" });
    const lines = text.split("\n");
    expect(lines).toEqual([
      "  · starting synapse",
      "",
      "▶ s  (s.yaml)",
      "  setup  postgres 1.50 s · synapse 4.00 s",
      "",
    ]);
  });
});

describe("degenerate runs", () => {
  it("renders a run without scenarios, and a scenario without steps, logs or setup", () => {
    const empty: RunResult = {
      version: 1,
      tool: { name: "bridge-harness", version: "0.1.0" },
      startedAt: 0,
      durationMs: 0,
      outcome: "skipped",
      scenarios: [],
    };
    expect(renderJunit(empty)).toContain('<testsuites name="bridge-harness 0.1.0" tests="0"');
    expect(JSON.parse(renderJson(empty)).scenarios).toEqual([]);
    expect(renderHtml(empty, { dir: "reports" })).toContain("0 scenarios skipped");
    const bare = fixtureRun();
    Object.assign(bare.scenarios[0], { steps: [], setup: {}, logs: {}, latency: [], runDir: "" });
    const html = renderHtml(bare, { dir: "reports" });
    expect(html).toContain("No steps ran.");
    expect(html).toContain("No latency was measured in this scenario.");
    expect(renderJunit(bare)).toMatch(/<testsuite name="messaging both ways" tests="0"/);
  });
});
