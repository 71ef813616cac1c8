// Slack-shaped identifiers and tokens. IDs are UPPERCASE alphanumerics without "-" because the
// bridge builds "<team>-<channel>-<ts>" identifiers and splits them on "-".
import { randomBytes, randomInt } from "node:crypto";

const ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/** Characters for secrets (tokens): from the CSPRNG. */
function pickSecret(chars: string, n: number): string {
  let out = "";
  for (let i = 0; i < n; i++) out += chars[randomInt(chars.length)];
  return out;
}

/** Characters for identifiers, which are public and checked for uniqueness where it matters: a
 * non-cryptographic source is enough, and one event ID per message makes the CSPRNG's per-call cost
 * show in the Web API's throughput. */
function pick(chars: string, n: number): string {
  let out = "";
  for (let i = 0; i < n; i++) out += chars[Math.floor(Math.random() * chars.length)];
  return out;
}

function digits(n: number): string {
  let out = String(randomInt(1, 10));
  while (out.length < n) out += String(randomInt(10));
  return out;
}

export class IdFactory {
  private readonly used = new Set<string>();

  /** A new ID like "C07ABCD1234": prefix, then 10 characters starting with a digit as Slack's do. */
  next(prefix: string): string {
    for (;;) {
      const id = `${prefix}0${pick(ID_CHARS, 9)}`;
      if (!this.used.has(id)) {
        this.used.add(id);
        return id;
      }
    }
  }

  /** Reserves an ID given by a seed; false if already taken. */
  reserve(id: string): boolean {
    if (this.used.has(id)) return false;
    this.used.add(id);
    return true;
  }
}

export function isSlackId(value: string, prefixes: string): boolean {
  return /^[A-Z][A-Z0-9]{2,}$/.test(value) && prefixes.includes(value[0] as string);
}

export function botToken(): string {
  return `xoxb-${digits(13)}-${digits(13)}-${pickSecret(ALNUM, 24)}`;
}

export function appToken(appId: string): string {
  return `xapp-1-${appId}-${digits(13)}-${randomBytes(32).toString("hex")}`;
}

export function opaque(n = 16): string {
  return pick(ALNUM, n);
}

/** For values that grant something when known, such as an upload URL. */
export function unguessable(n = 16): string {
  return pickSecret(ALNUM, n);
}

export function hex(bytes: number): string {
  return randomBytes(bytes).toString("hex");
}

export function eventId(): string {
  return `Ev0${pick(ID_CHARS, 9)}`;
}
