// Measures the offline image build: a cold build (every image rebuilt from debootstrap on, with
// the usual Go and pip download caches), then a warm run that should find everything cached.
//   node bench/images.ts [--warm-only] [--cold-caches] [--only <image>]...
// --cold-caches also starts from empty Go module/build and pip caches, as on a fresh CI machine.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BuildSummary, buildImages } from "../src/images/build.ts";
import { checkDockerEngine, PROJECT_ROOT } from "../src/images/image-map.ts";

const args = process.argv.slice(2);
const warmOnly = args.includes("--warm-only");
const coldCaches = args.includes("--cold-caches") && !warmOnly;
let scratch: string | undefined;
if (coldCaches) {
  scratch = mkdtempSync(join(tmpdir(), "bh-bench-images-"));
  process.env.GOCACHE = join(scratch, "go-build");
  process.env.GOMODCACHE = join(scratch, "go-mod");
  process.env.PIP_CACHE_DIR = join(scratch, "pip");
  // Build contexts hold downloaded wheels.
  rmSync(join(PROJECT_ROOT, ".cache", "image-build", "ctx"), { recursive: true, force: true });
}
const only: string[] = [];
for (let i = 0; i < args.length; i++) if (args[i] === "--only" && args[i + 1]) only.push(args[++i]);

await checkDockerEngine();
const quiet = () => {};

let cold: BuildSummary | undefined;
if (!warmOnly) {
  console.log(`cold build (all images rebuilt${coldCaches ? ", empty Go and pip caches" : ""}) ...`);
  cold = await buildImages({ force: true, only, onProgress: (l) => console.log(`  ${l}`) });
}
const warm = await buildImages({ only, onProgress: quiet });

const names = [...new Set([...(cold?.results ?? []), ...warm.results].map((r) => r.name))];
const w = Math.max(8, ...names.map((n) => n.length)) + 2;
console.log(
  `\n${"image".padEnd(w)}${"cold".padStart(9)}${"warm".padStart(9)}${"size".padStart(9)}  cold steps`,
);
for (const name of names) {
  const c = cold?.results.find((r) => r.name === name);
  const h = warm.results.find((r) => r.name === name);
  const size = h?.sizeBytes ?? c?.sizeBytes;
  const steps = c?.steps.map((s) => `${s.step} ${s.seconds.toFixed(1)}`).join(", ") ?? "";
  console.log(
    `${name.padEnd(w)}${(c ? `${c.seconds.toFixed(1)} s` : "-").padStart(9)}${(h ? h.status : "-").padStart(9)}${(size ? `${Math.round(size / 1e6)} MB` : "").padStart(9)}  ${steps}`,
  );
}
console.log(
  `${"total".padEnd(w)}${(cold ? `${cold.seconds.toFixed(1)} s` : "-").padStart(9)}${`${warm.seconds.toFixed(1)} s`.padStart(9)}`,
);
if (scratch) {
  spawnSync("go", ["clean", "-modcache"], { env: process.env, stdio: "ignore" });
  rmSync(scratch, { recursive: true, force: true });
}
const failed = [...(cold?.results ?? []), ...warm.results].filter((r) => r.status === "failed");
process.exitCode = failed.length > 0 || !warm.ok ? 1 : 0;
