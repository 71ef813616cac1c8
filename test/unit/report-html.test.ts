// Renders the HTML report of a realistic run in headless Chromium and checks what a reader would see.
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderHtml, renderJunit, writeReports } from "../../src/report/index.ts";
import { clearSecrets, registerSecret } from "../../src/util/redact.ts";
import { faultRun } from "./faults-fixture.ts";
import {
  CHROMIUM_PATH,
  chromiumAvailable,
  inspectReport,
  type PageFacts,
  parseXmlInBrowser,
} from "./report-browser.ts";
import { FIXTURE_APP_TOKEN, FIXTURE_SECRET, FIXTURE_SLACK_TOKEN, fixtureRun } from "./report-fixture.ts";

const dir = resolve("reports/test-report-html");
const haveChromium = chromiumAvailable();
const inCI = process.env.CI === "true";

describe("HTML report (static)", () => {
  it("is self-contained: no external references, scripts or stylesheets", () => {
    const html = renderHtml(fixtureRun(), { dir: "reports" });
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/<script|<link |<img |<iframe|@import|url\(/i);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//i);
    expect(html).toContain(`http-equiv="Content-Security-Policy" content="default-src 'none'`);
  });

  it("escapes HTML in every field", () => {
    const run = fixtureRun();
    run.scenarios[0].name = `<img src=x onerror=alert(1)>`;
    run.scenarios[0].steps[0].title = `"><script>alert(2)</script>`;
    run.scenarios[0].steps[0].details = { "<b>key</b>": "<i>v</i>" };
    const html = renderHtml(run, { dir: "reports" });
    expect(html).not.toContain("<img src=x");
    expect(html).not.toContain("<script>");
    expect(html).not.toContain("<b>key</b>");
    expect(html).toContain("&lt;img src=x onerror=alert(1)&gt;");
  });

  it("links each service log relative to the report folder", () => {
    const html = renderHtml(fixtureRun("/data/runs"), { dir: "/data/reports/today" });
    expect(html).toContain('href="../../runs/2026-11-22T03-41-06-messaging/synapse.log"');
    expect(html).toContain('href="../../runs/2026-11-22T03-41-52-reactions-edits-files/mautrix-slack.log"');
  });

  it("puts failures before the scenarios", () => {
    const html = renderHtml(fixtureRun(), { dir: "reports" });
    expect(html.indexOf('class="failures"')).toBeGreaterThan(0);
    expect(html.indexOf('class="failures"')).toBeLessThan(html.indexOf('class="scenario'));
  });

  it("redacts secrets", () => {
    registerSecret(FIXTURE_SECRET);
    try {
      const html = renderHtml(fixtureRun(), { dir: "reports" });
      expect(html).not.toContain(FIXTURE_SECRET);
      expect(html).not.toContain(FIXTURE_SLACK_TOKEN.slice(5));
      expect(html).not.toContain(FIXTURE_APP_TOKEN.slice(5));
    } finally {
      clearSecrets();
    }
  });
});

const reason = `Chromium not found at ${CHROMIUM_PATH} (install it: apt-get install -y chromium, or set CHROMIUM_PATH)`;
if (!haveChromium) {
  if (inCI) {
    it("has Chromium to render the report (required when CI=true)", () => {
      throw new Error(reason);
    });
  } else {
    process.stderr.write(`\n[report-html] skipping the browser rendering test: ${reason}\n`);
    it.skip(`renders in headless Chromium — skipped: ${reason}`, () => {});
  }
}

describe.runIf(haveChromium)("HTML report in headless Chromium", () => {
  let facts: PageFacts;
  const run = fixtureRun(join(dir, "runs"));
  const shot = join(dir, "report.png");

  beforeAll(async () => {
    await rm(dir, { recursive: true, force: true });
    for (const scenario of run.scenarios) {
      for (const [service, path] of Object.entries(scenario.logs)) {
        await mkdir(dirname(path), { recursive: true });
        await writeFile(path, `${service} log\n`);
      }
    }
    const written = await writeReports(run, { dir, formats: ["html"] });
    facts = await inspectReport(written.html as string, shot);
  }, 60_000);

  afterAll(() => {
    if (haveChromium) process.stdout.write(`[report-html] screenshot: ${shot}\n`);
  });

  it("renders without console errors or any request beyond the file itself", () => {
    expect(facts.consoleErrors).toEqual([]);
    expect(facts.otherRequests).toEqual([]);
  });

  it("saves a screenshot", async () => {
    const png = await readFile(shot);
    expect(png.subarray(1, 4).toString()).toBe("PNG");
    expect(png.length).toBeGreaterThan(50_000);
  });

  it("shows the outcome and totals in the header", () => {
    expect(facts.title).toMatch(/^FAILED · 1 of 2 scenarios failed/);
    expect(facts.headerText).toContain("1 of 2 scenarios failed");
    expect(facts.headerText).toContain("9/11 passed");
    expect(facts.headerText).toContain("40 latency samples");
  });

  it("draws one timeline bar per step, plus the setup phases", () => {
    expect(facts.timelines).toEqual(
      run.scenarios.map((s, i) => ({
        scenario: String(i),
        steps: s.steps.length,
        setup: Object.keys(s.setup).filter((k) => k !== "total").length,
      })),
    );
  });

  it("draws a latency chart per direction with one point per sample and the reference lines", () => {
    const expected = run.scenarios.flatMap((s, i) =>
      (["slack_to_matrix", "matrix_to_slack"] as const).map((direction) => {
        const samples = s.steps.flatMap((st) => st.latencies).filter((l) => l.direction === direction);
        return {
          scenario: String(i),
          direction,
          points: samples.length,
          overBudget: samples.filter((l) => l.latencyMs > l.budgetMs).length,
        };
      }),
    );
    expect(facts.charts.map(({ refLines: _, ...c }) => c)).toEqual(expected);
    expect(facts.charts.reduce((a, c) => a + c.points, 0)).toBe(40);
    for (const chart of facts.charts) {
      expect(chart.refLines.map((l) => l.split(" ")[0]).sort()).toEqual(["budget", "max", "p50", "p95"]);
    }
    expect(facts.charts[2].refLines).toContain("max 6.84 s");
  });

  it("lists every step, the failure at the top and links to each service log", () => {
    expect(facts.stepRows).toBe(11);
    expect(facts.failures).toBe(1);
    // 4 logs in the failure box + 4 per scenario section.
    expect(facts.logLinks).toHaveLength(12);
    expect(facts.logLinks).toContain("runs/2026-11-22T03-41-06-messaging/synapse.log");
  });

  it("fits the viewport width", () => {
    expect(facts.scrollWidth).toBeLessThanOrEqual(facts.viewportWidth);
  });
});

describe.runIf(haveChromium)("HTML report of a run with faults, in headless Chromium", () => {
  let facts: PageFacts;
  const faultsDir = join(dir, "faults");

  beforeAll(async () => {
    await rm(faultsDir, { recursive: true, force: true });
    const written = await writeReports(faultRun(), { dir: faultsDir, formats: ["html"] });
    facts = await inspectReport(written.html as string, join(faultsDir, "report.png"));
  }, 60_000);

  it("renders without console errors, requests or overflow", () => {
    expect(facts.consoleErrors).toEqual([]);
    expect(facts.otherRequests).toEqual([]);
    expect(facts.scrollWidth).toBeLessThanOrEqual(facts.viewportWidth);
  });

  it("shades each fault window on the timeline and marks every probe", () => {
    expect(facts.faultBands).toBe(2);
    expect(facts.probeMarks).toEqual({ ok: 49, late: 2, lost: 1 });
  });

  it("shows the availability and a row per fault", () => {
    expect(facts.availabilityText).toContain("Availability 94.23%");
    expect(facts.faultRows).toBe(2);
  });
});

describe.runIf(haveChromium)("JUnit XML through a real XML parser", () => {
  it("is well-formed and decodes nasty strings back to the text", async () => {
    const nasty = `<b>&amp;</b> "q" 'a' ]]> <!-- --> \u0007 tab\there\nline2 😀`;
    const run = fixtureRun();
    run.scenarios[1].name = nasty;
    run.scenarios[1].steps[3].error = nasty;
    const parsed = await parseXmlInBrowser(renderJunit(run));
    expect(parsed.error).toBeUndefined();
    expect(parsed.counts).toMatchObject({
      testsuites: 1,
      testsuite: 2,
      testcase: 11,
      failure: 1,
      skipped: 1,
    });
    const expected = nasty.replace("\u0007", "\uFFFD");
    expect(parsed.suiteNames[1]).toBe(expected);
    expect(parsed.failureMessages[0]).toBe(expected.split("\n")[0]);
    expect(parsed.systemOut.join("\n")).toContain(
      "[[ATTACHMENT|runs/2026-11-22T03-41-52-reactions-edits-files/mautrix-slack.log]]",
    );
  }, 30_000);
});

describe.runIf(haveChromium)("HTML report with damaged input", () => {
  it("renders without errors when timestamps are missing or samples arrive after their step", async () => {
    const run = fixtureRun();
    const step = run.scenarios[0].steps[2];
    step.latencies[0].endAt = step.startedAt + 60_000;
    (run.scenarios[0].steps[3] as { startedAt: number }).startedAt = Number.NaN;
    run.scenarios[1].latency[0].p95 = Number.NaN;
    const damagedDir = join(dir, "damaged");
    await mkdir(damagedDir, { recursive: true });
    const written = await writeReports(run, { dir: damagedDir, formats: ["html"] });
    const facts = await inspectReport(written.html as string, join(damagedDir, "report.png"));
    expect(facts.consoleErrors).toEqual([]);
    // The step without a start time keeps its row but has no bar.
    expect(facts.timelines.map((t) => t.steps)).toEqual([5, 5]);
  }, 30_000);
});
