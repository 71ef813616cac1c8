// The scenario's `slack:` section seeds the fake Slack workspace. Its format belongs to the fake
// (fakes/slack/seed/); here we only read the names steps may refer to, and call the fake's own
// validator when it provides one.
import { pathToFileURL } from "node:url";

export interface SeedNames {
  users: string[];
  channels: string[];
  apps: string[];
}

function namesOf(list: unknown, keys: string[]): string[] {
  if (!Array.isArray(list)) return [];
  const out: string[] = [];
  for (const item of list) {
    if (typeof item === "string") out.push(item);
    else if (item && typeof item === "object") {
      for (const k of keys) {
        const v = (item as Record<string, unknown>)[k];
        if (typeof v === "string") out.push(v);
      }
    }
  }
  return out;
}

export function seedNames(seed: unknown): SeedNames {
  const s = (seed && typeof seed === "object" ? seed : {}) as Record<string, unknown>;
  const apps = namesOf(s.apps, ["name", "id"]);
  if (!apps.length && s.app) apps.push(...namesOf([s.app], ["name", "id"]));
  return {
    users: [
      ...namesOf(s.users, ["name", "id"]),
      ...namesOf(s.bots, ["name", "id"]),
      ...namesOf(s.apps, ["bot_name"]),
    ],
    channels: namesOf(s.channels, ["name", "id"]),
    apps,
  };
}

export function matchesUser(names: SeedNames, ref: string): boolean {
  const bare = ref.replace(/^@/, "");
  // "@bot" is the first app's bot user; "@<app name>" any app's (the fake adds an app when none is seeded).
  return names.users.includes(bare) || (ref.startsWith("@") && (bare === "bot" || names.apps.includes(bare)));
}

export function matchesChannel(names: SeedNames, ref: string): boolean {
  return names.channels.includes(ref.replace(/^#/, ""));
}

/** A problem found by the fake's seed validator; `path` is relative to the seed (["users", 0, "name"]). */
export interface SeedIssue {
  path: (string | number)[];
  message: string;
  hint?: string;
}

type SeedValidator = (seed: unknown) => SeedIssue[];
let validator: SeedValidator | null | undefined;

/** The fake Slack's seed validator, when the fake provides one (undefined otherwise). */
export async function seedValidator(): Promise<SeedValidator | undefined> {
  if (validator !== undefined) return validator ?? undefined;
  validator = null;
  const candidates = [
    "../../fakes/slack/seed/index.ts",
    "../../fakes/slack/seed/validate.ts",
    "../../fakes/slack/seed.ts",
  ];
  for (const rel of candidates) {
    try {
      const mod = await import(pathToFileURL(new URL(rel, import.meta.url).pathname).href);
      const fn = mod.validateSeed ?? mod.validateSlackSeed ?? mod.checkSeed;
      if (typeof fn === "function") {
        validator = (seed: unknown) => normaliseIssues(fn(seed));
        break;
      }
    } catch {
      // not there (yet): the seed passes through to the fake, which reports at start.
    }
  }
  return validator ?? undefined;
}

function normaliseIssues(result: unknown): SeedIssue[] {
  if (!result) return [];
  const list = Array.isArray(result)
    ? result
    : typeof result === "object" && Array.isArray((result as any).errors)
      ? (result as any).errors
      : typeof result === "object" && Array.isArray((result as any).issues)
        ? (result as any).issues
        : [];
  return list.map((i: any) => {
    if (typeof i === "string") return { path: [], message: i };
    const p = i.path;
    const pathList = Array.isArray(p)
      ? p
      : typeof p === "string"
        ? p
            .split(/[.[\]]/)
            .filter(Boolean)
            .map((x) => (/^\d+$/.test(x) ? Number(x) : x))
        : [];
    return { path: pathList, message: String(i.message ?? i), hint: i.hint };
  });
}
