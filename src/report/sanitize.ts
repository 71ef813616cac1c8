// Every string that reaches a report goes through redact(): this deep-copies a value and redacts every
// string in it (object keys included), so no writer can forget one.
import { redact } from "../util/redact.ts";

export function redactDeep<T>(value: T): T {
  return walk(value, new WeakSet()) as T;
}

function walk(value: unknown, seen: WeakSet<object>): unknown {
  if (typeof value === "string") return redact(value);
  if (value === null || typeof value !== "object") {
    if (typeof value === "bigint") return value.toString();
    return value;
  }
  if (seen.has(value)) return "[circular]";
  seen.add(value);
  let out: unknown;
  if (Array.isArray(value)) out = value.map((v) => walk(v, seen));
  else if (value instanceof Date) out = value.toISOString();
  else if (value instanceof Error) out = redact(value.message);
  else {
    const obj: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (v === undefined || typeof v === "function") continue;
      obj[redact(k)] = walk(v, seen);
    }
    out = obj;
  }
  seen.delete(value);
  return out;
}

/** Text for a details value: strings as they are, anything else as compact JSON (all redacted). */
export function detailText(value: unknown): string {
  if (typeof value === "string") return redact(value);
  try {
    return redact(JSON.stringify(redactDeep(value)) ?? String(value));
  } catch {
    return redact(String(value));
  }
}
