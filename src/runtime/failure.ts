// Failures point at the run folder: that is where every service's log and generated config is.
import { redact } from "../util/redact.ts";

export function runFolderHint(runDir: string): string {
  return `Run folder (configs and logs): ${runDir}`;
}

/** Wraps an error so its message names the run folder (once); the original error is kept as `cause`. */
export function withRunFolder(err: unknown, runDir: string): Error {
  const message = err instanceof Error ? err.message : String(err);
  if (message.includes(runDir)) return err instanceof Error ? err : new Error(message);
  const wrapped = new Error(redact(`${message}\n${runFolderHint(runDir)}`), { cause: err });
  if (err instanceof Error && err.stack)
    wrapped.stack = `${wrapped.message}\n${err.stack.split("\n").slice(1).join("\n")}`;
  return wrapped;
}

/** Runs `fn`; on failure prints the run folder to stderr and rethrows with it in the message. */
export async function printRunFolderOnFailure<T>(runDir: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    process.stderr.write(`\n${runFolderHint(runDir)}\n`);
    throw withRunFolder(err, runDir);
  }
}
