// `bridge-harness images build [--only name]... [--force]`: builds the offline images, printing one
// line per image. Also runnable directly: `node src/images/command.ts build`.
import { realpathSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ARTIFACTS_ENV, buildImages } from "./build.ts";
import { checkDockerEngine } from "./image-map.ts";

const USAGE = `usage: bridge-harness images build [--only <image>]... [--force] [--artifacts <folder>]

  --only <image>        build just this image (repeatable, or comma-separated): debian, postgres,
                        synapse, mautrix-slack, continuwuity, tuwunel, matrix-authentication-service,
                        nginx, or one version such as synapse:1.163.2
  --force               rebuild even when an image with the same inputs exists
  --artifacts <folder>  the folder of release builds that no registry serves (continuwuity, tuwunel,
                        matrix-authentication-service; default $${ARTIFACTS_ENV}); their images are
                        skipped without it unless already built

Images are named bridge-harness/<name>:<version>; the upstream -> local image map is written to
.cache/image-map.json. Build logs: .cache/image-build/<image>.log`;

export async function runImagesBuild(args: string[]): Promise<number> {
  const rest = [...args];
  if (rest[0] === "build") rest.shift();
  else if (rest[0] !== undefined && !rest[0].startsWith("-")) {
    console.error(`images: unknown subcommand "${rest[0]}"\n\n${USAGE}`);
    return 2;
  }
  const only: string[] = [];
  let force = false;
  let artifactsDir: string | undefined;
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (a === "--help" || a === "-h") {
      console.log(USAGE);
      return 0;
    } else if (a === "--force") force = true;
    else if (a === "--artifacts" || a.startsWith("--artifacts=")) {
      const v = a === "--artifacts" ? rest[++i] : a.slice("--artifacts=".length);
      if (!v) {
        console.error(`images build: --artifacts needs a folder\n\n${USAGE}`);
        return 2;
      }
      artifactsDir = resolve(v);
    } else if (a === "--only" || a.startsWith("--only=")) {
      const v = a === "--only" ? rest[++i] : a.slice("--only=".length);
      if (!v) {
        console.error(`images build: --only needs an image name\n\n${USAGE}`);
        return 2;
      }
      only.push(...v.split(",").filter(Boolean));
    } else {
      console.error(`images build: unknown argument "${a}"\n\n${USAGE}`);
      return 2;
    }
  }

  try {
    await checkDockerEngine();
  } catch (err) {
    console.error((err as Error).message);
    return 1;
  }
  try {
    const summary = await buildImages({ only, force, artifactsDir });
    const count = (status: string) => summary.results.filter((r) => r.status === status).length;
    const skipped = count("skipped");
    console.log(
      `images: ${count("built")} built, ${count("cached")} cached, ${count("failed")} failed${skipped ? `, ${skipped} skipped` : ""} in ${summary.seconds.toFixed(1)} s` +
        (summary.imageMapPath ? `; image map: ${summary.imageMapPath}` : ""),
    );
    return summary.ok ? 0 : 1;
  } catch (err) {
    console.error(`images build: ${(err as Error).message}`);
    return 2;
  }
}

const invokedDirectly = (() => {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
})();
if (invokedDirectly) {
  process.exitCode = await runImagesBuild(process.argv.slice(2));
}
