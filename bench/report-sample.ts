// Writes a sample report set (JUnit, JSON, HTML) for the test fixture into reports/sample/, with
// stand-in service logs so the HTML's log links open, and a screenshot of the HTML when Chromium is
// installed; prints the terminal progress for the same run first.
// Run: node bench/report-sample.ts [output folder]
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { createProgressPrinter, writeReports } from "../src/report/index.ts";
import { registerSecret } from "../src/util/redact.ts";
import { chromiumAvailable, inspectReport } from "../test/unit/report-browser.ts";
import { FIXTURE_SECRET, fixtureRun } from "../test/unit/report-fixture.ts";

const dir = resolve(process.argv[2] ?? "reports/sample");
registerSecret(FIXTURE_SECRET);
const run = fixtureRun(join(dir, "runs"));
for (const scenario of run.scenarios) {
  for (const [service, path] of Object.entries(scenario.logs)) {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, `[sample] ${service} log of "${scenario.name}"\n`);
  }
}
const printer = createProgressPrinter(process.stdout);
for (const scenario of run.scenarios) {
  for (const [phase, ms] of Object.entries(scenario.setup)) printer.setupPhase(phase, ms);
  printer.scenarioStarted(scenario.name, scenario.file);
  for (const step of scenario.steps) {
    printer.stepStarted(step);
    printer.stepFinished(step);
  }
  printer.scenarioFinished(scenario);
}
const written = await writeReports(run, { dir });
printer.runFinished(run, { ...written });
if (chromiumAvailable() && written.html) {
  const shot = join(dir, "report.png");
  const facts = await inspectReport(written.html, shot);
  process.stdout.write(`  screenshot:   ${relative(process.cwd(), shot)}\n`);
  const points = facts.charts.reduce((a, c) => a + c.points, 0);
  process.stdout.write(
    `  rendered: ${facts.timelines.length} timelines, ${facts.charts.length} latency charts (${points} points), ` +
      `${facts.stepRows} step rows, ${facts.consoleErrors.length} console errors, ${facts.otherRequests.length} external requests\n`,
  );
} else {
  process.stdout.write("no screenshot: Chromium not found at /usr/bin/chromium (set CHROMIUM_PATH)\n");
}
