// `bridge-harness check` on the example operator repository: the whole command as CI runs it (a
// fresh `node bin/bridge-harness.js check` process per run, start-up included) and the checks alone
// (in this process, after a warm-up). Prints every run and the medians. Target: < 2 s per check.
//   node bench/check.ts [runs=7] [environment=examples/operator-repo/environments/mas.yaml]
import { execFileSync } from "node:child_process";
import path from "node:path";
import { runChecks } from "../src/check/run.ts";
import { now } from "../src/util/clock.ts";
import { median } from "./stats.ts";

const runs = Number(process.argv[2] ?? 7);
const environment = process.argv[3] ?? "examples/operator-repo/environments/mas.yaml";
const ROOT = path.resolve(import.meta.dirname, "..");
const TARGET_MS = 2000;

const cli: number[] = [];
for (let i = 0; i < runs; i++) {
  const t = now();
  execFileSync(process.execPath, ["bin/bridge-harness.js", "check", "--environment", environment], {
    cwd: ROOT,
    stdio: "ignore",
  });
  cli.push(now() - t);
}
runChecks(path.resolve(ROOT, environment));
const inProcess: number[] = [];
let files = 0;
for (let i = 0; i < runs; i++) {
  const r = runChecks(path.resolve(ROOT, environment));
  inProcess.push(r.durationMs);
  files = new Set(r.files).size;
}

const ms = (x: number) => `${x.toFixed(1)} ms`;
process.stdout.write(`check --environment ${environment} (${files} operator files), ${runs} runs\n`);
process.stdout.write(`  CLI process, start-up included: ${cli.map(ms).join(", ")}\n`);
process.stdout.write(`  checks alone (warm):            ${inProcess.map(ms).join(", ")}\n`);
process.stdout.write(
  `median: CLI ${ms(median(cli))}, checks ${ms(median(inProcess))} (target < ${TARGET_MS} ms: ${median(cli) < TARGET_MS ? "met" : "MISSED"})\n`,
);
