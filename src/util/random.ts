// Random values for per-run secrets. Every secret is registered for redaction when generated.
import { randomBytes } from "node:crypto";
import { registerSecret } from "./redact.ts";

/** URL-safe random string of `length` characters; registered as a secret unless `secret: false`. */
export function randomToken(length = 32, opts: { secret?: boolean } = {}): string {
  const value = randomBytes(Math.ceil((length * 3) / 4) + 2)
    .toString("base64url")
    .replace(/[-_]/g, "x")
    .slice(0, length);
  if (opts.secret !== false) registerSecret(value);
  return value;
}
