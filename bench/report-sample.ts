// Writes a sample report set (JUnit, JSON, HTML) for the test fixture into reports/sample/, with
// stand-in service logs so the HTML's log links open, and a screenshot of the HTML when Chromium is
// installed. Run: node bench/report-sample.ts [output folder]
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { writeReports } from "../src/report/index.ts";
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
const written = await writeReports(run, { dir });
for (const [format, path] of Object.entries(written)) process.stdout.write(`${format.padEnd(6)} ${path}\n`);
if (chromiumAvailable() && written.html) {
  const shot = join(dir, "report.png");
  const facts = await inspectReport(written.html, shot);
  process.stdout.write(`screenshot ${shot}\n`);
  process.stdout.write(`${JSON.stringify({ ...facts, headerText: undefined }, null, 2)}\n`);
} else {
  process.stdout.write("no screenshot: Chromium not found at /usr/bin/chromium (set CHROMIUM_PATH)\n");
}
