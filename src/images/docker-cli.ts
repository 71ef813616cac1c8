// Thin wrappers over the `docker` CLI (it honours DOCKER_HOST and the user's docker config).
import { spawn } from "node:child_process";

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion, capturing its output (for short commands). */
export function capture(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv } = {},
): Promise<ExecResult> {
  return new Promise((resolve) => {
    let stdout = "";
    let stderr = "";
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(cmd, args, { env: opts.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
    } catch (err) {
      resolve({ code: 127, stdout: "", stderr: String(err) });
      return;
    }
    child.stdout?.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr?.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.on("error", (err) => resolve({ code: 127, stdout, stderr: `${stderr}${err.message}` }));
    child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

export interface ImageInfo {
  id: string;
  labels: Record<string, string>;
  size: number;
}

/** Inspects a local image; undefined when the engine does not have it. */
export async function inspectImage(ref: string): Promise<ImageInfo | undefined> {
  const r = await capture("docker", ["image", "inspect", "--format", "{{json .}}", ref]);
  if (r.code !== 0) return undefined;
  try {
    const info = JSON.parse(r.stdout.trim()) as {
      Id: string;
      Size: number;
      Config?: { Labels?: Record<string, string> | null };
    };
    return { id: info.Id, size: info.Size, labels: info.Config?.Labels ?? {} };
  } catch {
    return undefined;
  }
}
