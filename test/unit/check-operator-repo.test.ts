// examples/operator-repo end to end through the CLI (`node bin/bridge-harness.js check`, no
// containers): the clean environments give no finding and exit 0; every seeded mistake is caught
// with its id at the line marked `# expect: <id>`, and nothing else is reported. Also the output
// formats, exit codes and the shipped workflow's copy.
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "../..");
const REPO = path.join(ROOT, "examples/operator-repo");
const MISTAKES = path.join(REPO, "mistakes");

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ["bin/bridge-harness.js", ...args],
      {
        cwd: ROOT,
        env: { ...process.env, GITHUB_WORKSPACE: "", NO_COLOR: "1" },
      },
    );
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

interface Marked {
  id: string;
  file: string;
  line: number;
}

/** `# expect: <id>` markers in a folder's files: where each finding must be. */
function markers(dir: string): Marked[] {
  const out: Marked[] = [];
  for (const name of readdirSync(dir)) {
    const text = readFileSync(path.join(dir, name), "utf8");
    text.split("\n").forEach((line, i) => {
      const m = /# expect: ([a-z0-9., -]+)$/.exec(line);
      if (m)
        for (const id of m[1].split(",").map((s) => s.trim()))
          out.push({ id, file: path.relative(ROOT, path.join(dir, name)), line: i + 1 });
    });
  }
  return out.sort((a, b) => a.id.localeCompare(b.id));
}

const mistakes = readdirSync(MISTAKES).sort();

describe("examples/operator-repo through the CLI", () => {
  it.each(["production", "mas", "continuwuity"])(
    "environments/%s.yaml: no findings, exit 0",
    async (name) => {
      const r = await cli(
        "check",
        "--environment",
        `examples/operator-repo/environments/${name}.yaml`,
        "--format",
        "json",
      );
      const doc = JSON.parse(r.stdout);
      expect(doc.findings).toEqual([]);
      expect(r.code).toBe(0);
      // Well within the 2 s budget even with the process start (bench/check.ts measures it).
      expect(doc.durationMs).toBeLessThan(500);
    },
  );

  it("has seeded mistakes for the issue's real cases, each with its markers", () => {
    expect(mistakes).toEqual(
      expect.arrayContaining([
        "continuwuity-appservices-array",
        "sender-localpart-fixed",
        "homeserver-debug-logging",
        "msc3861-on-synapse-1.163",
        "encryption-under-mas",
      ]),
    );
    for (const m of mistakes) expect(markers(path.join(MISTAKES, m)).length, m).toBeGreaterThan(0);
  });

  for (const m of mistakes)
    it(`mistakes/${m}: caught at the marked line, nothing else`, async () => {
      const r = await cli(
        "check",
        "--environment",
        `examples/operator-repo/mistakes/${m}/environment.yaml`,
        "--format",
        "json",
      );
      const doc = JSON.parse(r.stdout);
      const found = doc.findings
        .map((f: any) => ({ id: f.id, file: f.file, line: f.line }))
        .sort((a: Marked, b: Marked) => a.id.localeCompare(b.id));
      expect(found, r.stdout).toEqual(markers(path.join(MISTAKES, m)));
      const errors = doc.findings.filter((f: any) => f.severity === "error").length;
      expect(r.code).toBe(errors ? 1 : 0);
    });
});

describe("check output and exit codes", () => {
  const env = "examples/operator-repo/mistakes/tokens-regenerated/environment.yaml";

  it("terminal: grouped by file, with why and fix, no token values", async () => {
    const r = await cli("check", "--environment", env);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^examples\/operator-repo\/mistakes\/tokens-regenerated\/registration\.yaml\n/m);
    expect(r.stdout).toMatch(/^ {6}5 {2}error {4}registration\.as-token-mismatch {2}as_token differs/m);
    expect(r.stdout).toContain("why: The homeserver does not know the token");
    expect(r.stdout).toContain("fix: Copy the registration");
    expect(r.stdout).toContain("check: 2 error(s), 0 warning(s), 0 info in 5 file(s)");
    expect(r.stdout).not.toContain("r36OCidVPyuylSA1fC9Tw3f2fQUdFiQUDnyNl53l60hbL8N57reiuDiFvhCrPPX6");
    expect(r.stdout).not.toContain("Q8cTt1xkZr0vV6PgY2mD4sLh7wN9bJ3aE5uF0oKiR2yH6qC8zX1nM4pS7dG9jB3e");
  });

  it("github: one annotation per finding on the file and line, warnings as ::warning", async () => {
    const r = await cli("check", "--environment", env, "--format", "github");
    expect(r.stdout).toContain(
      "::error file=examples/operator-repo/mistakes/tokens-regenerated/registration.yaml,line=5,title=registration.as-token-mismatch::as_token differs",
    );
    expect(r.stdout).toMatch(/%0AWhy: .*%0AFix: /);
    const w = await cli(
      "check",
      "--environment",
      "examples/operator-repo/mistakes/sender-localpart-fixed/environment.yaml",
      "--format",
      "github",
    );
    expect(w.stdout).toMatch(
      /^::warning file=.*registration\.yaml,line=7,title=registration\.sender-localpart-is-bot::/m,
    );
    expect(w.code).toBe(0);
  });

  it("--fail-on warning turns warnings into a failing exit code", async () => {
    const w = await cli(
      "check",
      "--environment",
      "examples/operator-repo/mistakes/sender-localpart-fixed/environment.yaml",
      "--fail-on",
      "warning",
    );
    expect(w.code).toBe(1);
  });

  it("junit: one case per check, errors as failures; markdown: a table", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "bh-check-junit-"));
    const file = path.join(dir, "check.xml");
    await cli("check", "--environment", env, "--junit", file);
    const xml = readFileSync(file, "utf8");
    expect(xml).toContain('<testsuites name="bridge-harness check" tests="');
    expect(xml).toMatch(
      /<testcase classname="check\.registration" name="registration\.as-token-mismatch: [^"]*" time="0"><failure message="examples\/operator-repo\/mistakes\/tokens-regenerated\/registration\.yaml:5: as_token differs/,
    );
    const md = await cli("check", "--environment", env, "--format", "markdown");
    expect(md.stdout).toContain(
      "| ❌ | `examples/operator-repo/mistakes/tokens-regenerated/registration.yaml:5` | `registration.as-token-mismatch` |",
    );
  });

  it("usage errors and a broken environment file exit 2", async () => {
    expect((await cli("check")).code).toBe(2);
    expect((await cli("check", "--environment", env, "--format", "xml")).code).toBe(2);
    const bad = await cli("check", "--environment", "examples/operator-repo/config/mautrix-slack.yaml");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(
      /mautrix-slack\.yaml:7:1: appservice: unknown key "appservice" in an environment file/,
    );
    const missing = await cli("check", "--environment", "nowhere.yaml");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("file not found");
  });

  it("the example repository carries the shipped workflow unchanged", () => {
    expect(readFileSync(path.join(REPO, ".github/workflows/bridge-harness.yml"), "utf8")).toBe(
      readFileSync(path.join(ROOT, ".github/workflows/bridge-harness.yml"), "utf8"),
    );
  });

  it("the shipped workflow checks first, then runs the scenarios, redacts before uploading and posts the summary", () => {
    const wf = readFileSync(path.join(ROOT, ".github/workflows/bridge-harness.yml"), "utf8");
    expect(wf).toMatch(/check --environment "\.\.\/\$ENVIRONMENT" --format github/);
    expect(wf).toMatch(/scenarios:\n\s+needs: check/);
    const redact = wf.indexOf("./harness redact runs ../bridge-harness-report");
    const upload = wf.indexOf("name: Upload reports and logs");
    expect(redact).toBeGreaterThan(0);
    expect(redact).toBeLessThan(upload);
    expect(wf).toContain("$GITHUB_STEP_SUMMARY");
    expect(wf).toContain("gh pr comment");
  });
});
