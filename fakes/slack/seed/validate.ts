// Validation of the workspace seed (the scenario's `slack:` section). Works on plain values and
// reports paths; positions (file:line:column) are added by positions.ts when YAML is at hand.

export interface SeedIssue {
  /** Path inside the seed: ["users", 0, "name"]. */
  path: (string | number)[];
  message: string;
  hint?: string;
}

export interface SeedUser {
  name: string;
  id?: string;
  real_name?: string;
  display_name?: string;
  email?: string;
  tz?: string;
  /** A photo URL, or true: the fake serves a generated image on Slack's avatar host. */
  avatar?: string | boolean;
  admin?: boolean;
  owner?: boolean;
  deleted?: boolean;
}

export interface SeedApp {
  name: string;
  id?: string;
  scopes?: string[];
  bot_name?: string;
}

export interface SeedChannel {
  name: string;
  id?: string;
  private?: boolean;
  general?: boolean;
  archived?: boolean;
  members?: string[];
  topic?: string;
  purpose?: string;
  /** Posting permissions: "admin" (admins only), "ra" (everyone but guests) and/or user names. */
  posting_restricted_to?: string[];
}

export interface SeedUsergroup {
  handle: string;
  id?: string;
  name?: string;
  description?: string;
  members?: string[];
  disabled?: boolean;
}

/** An integration (incoming webhook) that posts bot_message messages without a user. */
export interface SeedBot {
  name: string;
  id?: string;
}

export interface SeedDm {
  name?: string;
  id?: string;
  members: string[];
}

export interface SeedMessage {
  channel: string;
  user: string;
  text: string;
  id?: string;
  thread?: string;
  broadcast?: boolean;
  reactions?: { name: string; users: string[] }[];
}

export interface Seed {
  /** icon: true serves a generated team icon (default: Slack's default icon, nothing to download). */
  team?: { name?: string; domain?: string; id?: string; icon?: boolean };
  apps?: SeedApp[];
  bots?: SeedBot[];
  users?: (SeedUser | string)[];
  usergroups?: SeedUsergroup[];
  channels?: SeedChannel[];
  dms?: SeedDm[];
  /** name -> image URL, "alias:<name>", or true (a generated image served on emoji.slack-edge.com). */
  emoji?: Record<string, string | boolean>;
  messages?: SeedMessage[];
}

type Path = (string | number)[];
type Obj = Record<string, unknown>;

const TOP = ["team", "apps", "bots", "users", "usergroups", "channels", "dms", "emoji", "messages"];
const NAME = /^[a-z0-9][a-z0-9._-]*$/;
const NAME_RULE = "must be lowercase letters, digits, '.', '_' or '-'";

function isObj(v: unknown): v is Obj {
  return !!v && typeof v === "object" && !Array.isArray(v);
}

class Checker {
  readonly issues: SeedIssue[] = [];

  add(path: Path, message: string, hint?: string): void {
    this.issues.push(hint ? { path, message, hint } : { path, message });
  }

  keys(o: Obj, path: Path, allowed: string[]): void {
    for (const k of Object.keys(o))
      if (!allowed.includes(k))
        this.add([...path, k], `unknown field "${k}"`, `allowed fields: ${allowed.join(", ")}`);
  }

  str(
    o: Obj,
    key: string,
    path: Path,
    opts: { required?: boolean; pattern?: RegExp; example?: string; expect?: string } = {},
  ): string | undefined {
    const v = o[key];
    if (v === undefined || v === null) {
      if (opts.required)
        this.add([...path, key], "is required", opts.example ? `e.g. ${key}: ${opts.example}` : undefined);
      return undefined;
    }
    if (typeof v !== "string") {
      this.add(
        [...path, key],
        `must be a string, got ${describe(v)}`,
        opts.example ? `e.g. ${key}: ${opts.example}` : undefined,
      );
      return undefined;
    }
    if (opts.pattern && !opts.pattern.test(v)) {
      this.add(
        [...path, key],
        `"${v}" ${opts.expect ?? `does not match ${opts.pattern}`}`,
        opts.example ? `e.g. ${key}: ${opts.example}` : undefined,
      );
      return undefined;
    }
    return v;
  }

  bool(o: Obj, key: string, path: Path): void {
    const v = o[key];
    if (v !== undefined && typeof v !== "boolean")
      this.add([...path, key], `must be true or false, got ${describe(v)}`);
  }

  list(o: Obj, key: string, path: Path): unknown[] | undefined {
    const v = o[key];
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v)) {
      this.add([...path, key], `must be a list, got ${describe(v)}`);
      return undefined;
    }
    return v;
  }
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  return `${typeof v} ${JSON.stringify(v)}`;
}

/** Checks a seed; returns every problem found (empty when valid). */
export function validateSeed(seed: unknown): SeedIssue[] {
  const c = new Checker();
  if (seed === undefined || seed === null) return [];
  if (!isObj(seed)) {
    c.add(
      [],
      `the slack seed must be a mapping, got ${describe(seed)}`,
      "e.g. slack: { users: [alice], channels: [{ name: general }] }",
    );
    return c.issues;
  }
  c.keys(seed, [], TOP);

  if (seed.team !== undefined) {
    if (!isObj(seed.team))
      c.add(["team"], `must be a mapping, got ${describe(seed.team)}`, "e.g. team: { name: chochacho }");
    else {
      c.keys(seed.team, ["team"], ["name", "domain", "id", "icon"]);
      c.bool(seed.team, "icon", ["team"]);
      c.str(seed.team, "name", ["team"]);
      c.str(seed.team, "domain", ["team"], {
        pattern: /^[a-z0-9][a-z0-9-]*$/,
        expect: "must be lowercase letters, digits and '-'",
        example: "chochacho",
      });
      c.str(seed.team, "id", ["team"], { pattern: /^T[A-Z0-9]{2,}$/, example: "T0CHOCHACHO" });
    }
  }

  const appNames: string[] = [];
  const apps = c.list(seed, "apps", []);
  apps?.forEach((a, i) => {
    const p = ["apps", i];
    if (!isObj(a)) {
      c.add(p, `must be a mapping, got ${describe(a)}`, "e.g. - name: mautrix-slack");
      return;
    }
    c.keys(a, p, ["name", "id", "scopes", "bot_name"]);
    const name = c.str(a, "name", p, {
      required: true,
      pattern: NAME,
      expect: NAME_RULE,
      example: "mautrix-slack",
    });
    if (name) {
      if (appNames.includes(name)) c.add([...p, "name"], `duplicate app name "${name}"`);
      appNames.push(name);
    }
    c.str(a, "id", p, { pattern: /^A[A-Z0-9]{2,}$/, example: "A0MAUTRIX01" });
    c.str(a, "bot_name", p, { pattern: NAME, expect: NAME_RULE });
    const scopes = c.list(a, "scopes", p);
    scopes?.forEach((s, j) => {
      if (typeof s !== "string" || !/^[a-z.]+(:[a-z.]+)*$/.test(s))
        c.add([...p, "scopes", j], `must be a scope name, got ${describe(s)}`, "e.g. chat:write");
    });
  });
  if (!apps?.length) appNames.push("mautrix-slack");

  const botNames: string[] = [];
  c.list(seed, "bots", [])?.forEach((b, i) => {
    const p = ["bots", i];
    if (!isObj(b)) {
      c.add(p, `must be a mapping, got ${describe(b)}`, "e.g. - name: deploy-hook");
      return;
    }
    c.keys(b, p, ["name", "id"]);
    const name = c.str(b, "name", p, {
      required: true,
      pattern: NAME,
      expect: NAME_RULE,
      example: "deploy-hook",
    });
    if (name) {
      if (botNames.includes(name) || appNames.includes(name))
        c.add([...p, "name"], `duplicate bot name "${name}"`);
      botNames.push(name);
    }
    c.str(b, "id", p, { pattern: /^B[A-Z0-9]{2,}$/, example: "B0DEPLOY001" });
  });

  const userNames: string[] = [];
  const users = c.list(seed, "users", []);
  users?.forEach((u, i) => {
    const p = ["users", i];
    let name: string | undefined;
    if (typeof u === "string") {
      if (!NAME.test(u))
        c.add(p, `"${u}" is not a valid user name`, "lowercase letters, digits, '.', '_' and '-'");
      else name = u;
    } else if (!isObj(u)) {
      c.add(p, `must be a name or a mapping, got ${describe(u)}`, "e.g. - name: alice");
      return;
    } else {
      c.keys(u, p, [
        "name",
        "id",
        "real_name",
        "display_name",
        "email",
        "tz",
        "avatar",
        "admin",
        "owner",
        "deleted",
      ]);
      name = c.str(u, "name", p, { required: true, pattern: NAME, expect: NAME_RULE, example: "alice" });
      c.str(u, "id", p, { pattern: /^[UW][A-Z0-9]{2,}$/, example: "U0ALICE0001" });
      for (const k of ["real_name", "display_name", "email", "tz"]) c.str(u, k, p);
      if (u.avatar !== true)
        c.str(u, "avatar", p, {
          pattern: /^https?:\/\//,
          expect: "must be an image URL, or true for a generated photo",
          example: "true",
        });
      for (const k of ["admin", "owner", "deleted"]) c.bool(u, k, p);
    }
    if (name) {
      if (userNames.includes(name) || appNames.includes(name))
        c.add(typeof u === "string" ? p : [...p, "name"], `duplicate user name "${name}"`);
      userNames.push(name);
    }
  });

  const checkMember = (ref: unknown, p: Path): void => {
    if (typeof ref !== "string") {
      c.add(p, `must be a user name, got ${describe(ref)}`, 'e.g. alice or "@bot"');
      return;
    }
    const bare = ref.replace(/^@/, "");
    if (
      bare === "bot" ||
      userNames.includes(bare) ||
      appNames.includes(bare) ||
      /^[UW][A-Z0-9]{2,}$/.test(bare)
    )
      return;
    c.add(
      p,
      `unknown user "${ref}"`,
      `known: ${[...new Set([...userNames, "@bot", ...appNames.map((a) => `@${a}`)])].join(", ")}`,
    );
  };

  const handles: string[] = [];
  c.list(seed, "usergroups", [])?.forEach((g, i) => {
    const p = ["usergroups", i];
    if (!isObj(g)) {
      c.add(p, `must be a mapping, got ${describe(g)}`, "e.g. - { handle: oncall, members: [bob] }");
      return;
    }
    c.keys(g, p, ["handle", "id", "name", "description", "members", "disabled"]);
    const handle = c.str(g, "handle", p, {
      required: true,
      pattern: NAME,
      expect: NAME_RULE,
      example: "oncall",
    });
    if (handle) {
      if (handles.includes(handle) || userNames.includes(handle))
        c.add(
          [...p, "handle"],
          `"${handle}" is already a user name or handle`,
          "handles share @-mentions with user names",
        );
      handles.push(handle);
    }
    c.str(g, "id", p, { pattern: /^S[A-Z0-9]{2,}$/, example: "S0ONCALL001" });
    for (const k of ["name", "description"]) c.str(g, k, p);
    c.bool(g, "disabled", p);
    c.list(g, "members", p)?.forEach((m, j) => {
      checkMember(m, [...p, "members", j]);
    });
  });

  const channelNames: string[] = [];
  const channels = c.list(seed, "channels", []);
  channels?.forEach((ch, i) => {
    const p = ["channels", i];
    if (!isObj(ch)) {
      c.add(p, `must be a mapping, got ${describe(ch)}`, "e.g. - name: dev-platform");
      return;
    }
    c.keys(ch, p, [
      "name",
      "id",
      "private",
      "general",
      "archived",
      "members",
      "topic",
      "purpose",
      "posting_restricted_to",
    ]);
    c.list(ch, "posting_restricted_to", p)?.forEach((r, j) => {
      if (r !== "admin" && r !== "ra") checkMember(r, [...p, "posting_restricted_to", j]);
    });
    const name = c.str(ch, "name", p, {
      required: true,
      pattern: /^[a-z0-9][a-z0-9_-]{0,79}$/,
      example: "dev-platform",
    });
    if (name) {
      if (channelNames.includes(name)) c.add([...p, "name"], `duplicate channel name "${name}"`);
      channelNames.push(name);
    }
    c.str(ch, "id", p, { pattern: /^[CG][A-Z0-9]{2,}$/, example: "C0DEVPLATF1" });
    for (const k of ["private", "general", "archived"]) c.bool(ch, k, p);
    for (const k of ["topic", "purpose"]) c.str(ch, k, p);
    c.list(ch, "members", p)?.forEach((m, j) => {
      checkMember(m, [...p, "members", j]);
    });
  });

  const dmNames: string[] = [];
  const dms = c.list(seed, "dms", []);
  dms?.forEach((dm, i) => {
    const p = ["dms", i];
    if (!isObj(dm)) {
      c.add(p, `must be a mapping, got ${describe(dm)}`, 'e.g. - members: [alice, "@bot"]');
      return;
    }
    c.keys(dm, p, ["name", "id", "members"]);
    const name = c.str(dm, "name", p, { pattern: NAME, expect: NAME_RULE });
    if (name) {
      if (channelNames.includes(name) || dmNames.includes(name))
        c.add([...p, "name"], `duplicate conversation name "${name}"`);
      dmNames.push(name);
    }
    c.str(dm, "id", p, { pattern: /^[DCG][A-Z0-9]{2,}$/ });
    const members = c.list(dm, "members", p);
    if (!members) c.add([...p, "members"], "is required", 'e.g. members: [alice, "@bot"]');
    else {
      if (members.length < 2 || members.length > 9)
        c.add([...p, "members"], `needs 2 to 9 members, got ${members.length}`);
      members.forEach((m, j) => {
        checkMember(m, [...p, "members", j]);
      });
    }
  });

  if (seed.emoji !== undefined) {
    if (!isObj(seed.emoji))
      c.add(
        ["emoji"],
        `must be a mapping of name to URL, got ${describe(seed.emoji)}`,
        "e.g. emoji: { partyparrot: https://example.org/pp.gif }",
      );
    else
      for (const [k, v] of Object.entries(seed.emoji)) {
        if (!/^[a-z0-9_+'-]+$/.test(k)) c.add(["emoji", k], `"${k}" is not a valid emoji name`);
        if (v !== true && (typeof v !== "string" || !/^(https?:\/\/|alias:)/.test(v)))
          c.add(
            ["emoji", k],
            `must be an image URL, "alias:<name>" or true (a generated image), got ${describe(v)}`,
          );
      }
  }

  const messageIds: string[] = [];
  const messages = c.list(seed, "messages", []);
  messages?.forEach((m, i) => {
    const p = ["messages", i];
    if (!isObj(m)) {
      c.add(
        p,
        `must be a mapping, got ${describe(m)}`,
        "e.g. - { channel: dev-platform, user: alice, text: hello }",
      );
      return;
    }
    c.keys(m, p, ["channel", "user", "text", "id", "thread", "broadcast", "reactions"]);
    const ch = c.str(m, "channel", p, { required: true, example: "dev-platform" });
    if (ch && !channelNames.includes(ch.replace(/^#/, "")) && !dmNames.includes(ch))
      c.add(
        [...p, "channel"],
        `unknown channel "${ch}"`,
        `known: ${[...channelNames, ...dmNames].join(", ") || "(none)"}`,
      );
    if (m.user === undefined) c.add([...p, "user"], "is required", "e.g. user: alice");
    else checkMember(m.user, [...p, "user"]);
    c.str(m, "text", p, { required: true, example: "hello" });
    const id = c.str(m, "id", p, { pattern: /^[A-Za-z0-9_-]+$/ });
    const thread = c.str(m, "thread", p);
    if (thread !== undefined && !messageIds.includes(thread))
      c.add(
        [...p, "thread"],
        `no earlier message has id "${thread}"`,
        "give the thread root `id: <label>` and refer to it here",
      );
    if (id) messageIds.push(id);
    c.bool(m, "broadcast", p);
    c.list(m, "reactions", p)?.forEach((r, j) => {
      const rp = [...p, "reactions", j];
      if (!isObj(r)) {
        c.add(rp, `must be a mapping, got ${describe(r)}`, "e.g. - { name: tada, users: [bob] }");
        return;
      }
      c.keys(r, rp, ["name", "users"]);
      c.str(r, "name", rp, { required: true, pattern: /^[a-z0-9_+'-]+$/, example: "tada" });
      const ru = c.list(r, "users", rp);
      if (!ru?.length) c.add([...rp, "users"], "needs at least one user");
      ru?.forEach((u, k) => {
        checkMember(u, [...rp, "users", k]);
      });
    });
  });
  return c.issues;
}

/** Dotted form of a path: users[1].name */
export function formatPath(path: (string | number)[], prefix = ""): string {
  let out = prefix;
  for (const part of path) out += typeof part === "number" ? `[${part}]` : out ? `.${part}` : part;
  return out || "(seed)";
}
