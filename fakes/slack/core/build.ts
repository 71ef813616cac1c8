// Seed -> Workspace: IDs, per-run tokens (registered as secrets), memberships and history.
import { CURRENT_APP_MANIFEST } from "../../../src/bridges/mautrix-slack/manifest.ts";
import { registerSecret } from "../../../src/util/redact.ts";
import type { Seed, SeedUser } from "../seed/validate.ts";
import type { Actions } from "./actions.ts";
import { appToken, botToken, IdFactory } from "./ids.ts";
import { hostEmoji, imageFor, setTeamIcon, setUserPhoto } from "./images.ts";
import { type App, type Channel, type ChannelKind, emptyChannel, Workspace } from "./state.ts";

/** mautrix-slack's app manifest bot scopes (app-manifest.yaml of the current release, v0.2608.0). */
export const DEFAULT_BOT_SCOPES: readonly string[] = CURRENT_APP_MANIFEST.scopes;

export function buildWorkspace(seed: Seed): { ws: Workspace; seedActions: (a: Actions) => void } {
  const ids = new IdFactory();
  const nowS = Math.floor(Date.now() / 1000);
  const created = nowS - 86_400 * 30;
  const teamId = seed.team?.id ?? ids.next("T");
  ids.reserve(teamId);
  const name = seed.team?.name ?? "chochacho";
  const ws = new Workspace(
    { id: teamId, name, domain: seed.team?.domain ?? name.toLowerCase().replace(/[^a-z0-9-]/g, "") },
    ids,
  );

  const want = (given: string | undefined, prefix: string): string =>
    given && ids.reserve(given) ? given : ids.next(prefix);

  const addUser = (u: SeedUser, isBot = false): string => {
    const id = want(u.id, "U");
    ws.users.set(id, {
      id,
      name: u.name,
      realName: u.real_name ?? u.name,
      displayName: u.display_name ?? (isBot ? u.name : ""),
      email: u.email,
      tz: u.tz ?? "Europe/Paris",
      tzOffset: u.tz === "UTC" ? 0 : 3600,
      isBot,
      isAdmin: u.admin ?? false,
      isOwner: u.owner ?? false,
      deleted: u.deleted ?? false,
      image: typeof u.avatar === "string" ? u.avatar : undefined,
      updated: created,
    });
    const user = ws.users.get(id);
    if (user && u.avatar === true) setUserPhoto(ws, user, imageFor(`avatar:${u.name}`));
    return id;
  };
  if (seed.team?.icon) setTeamIcon(ws, imageFor(`team:${name}`));

  for (const u of seed.users ?? []) addUser(typeof u === "string" ? { name: u } : u);

  const seedApps = seed.apps?.length ? seed.apps : [{ name: "mautrix-slack" }];
  for (const a of seedApps) {
    const appId = want(a.id, "A");
    const botId = ids.next("B");
    const userId = addUser({ name: a.bot_name ?? a.name, real_name: a.name }, true);
    const user = ws.users.get(userId);
    if (user) {
      user.botId = botId;
      user.appId = appId;
    }
    ws.bots.set(botId, { id: botId, appId, userId, name: a.name, updated: created, deleted: false });
    const app: App = {
      id: appId,
      name: a.name,
      botId,
      botUserId: userId,
      botToken: botToken(),
      appToken: appToken(appId),
      botScopes: a.scopes ?? [...DEFAULT_BOT_SCOPES],
      appScopes: ["connections:write"],
    };
    registerSecret(app.botToken);
    registerSecret(app.appToken);
    ws.apps.push(app);
  }

  for (const b of seed.bots ?? []) {
    const id = want(b.id, "B");
    ws.bots.set(id, { id, appId: "", userId: "", name: b.name, updated: created, deleted: false });
  }

  const firstApp = ws.apps[0] as App;
  const resolveMember = (ref: string): string => {
    const bare = ref.replace(/^@/, "");
    if (bare === "bot") return firstApp.botUserId;
    const app = ws.apps.find((a) => a.name === bare);
    if (app) return app.botUserId;
    const u = ws.userByName(bare) ?? ws.users.get(bare);
    if (!u) throw new Error(`unknown user "${ref}"`);
    return u.id;
  };
  const dmAliases = new Map<string, string | undefined>();
  const humans = [...ws.users.values()].filter((u) => !u.isBot).map((u) => u.id);
  const owner = humans[0] ?? firstApp.botUserId;

  for (const g of seed.usergroups ?? []) {
    const id = want(g.id, "S");
    ws.usergroups.set(id, {
      id,
      handle: g.handle,
      name: g.name ?? g.handle,
      description: g.description ?? "",
      users: [...new Set((g.members ?? []).map(resolveMember))],
      disabled: g.disabled ?? false,
      created,
      updated: created,
      createdBy: owner,
    });
  }

  for (const s of seed.channels ?? []) {
    const kind: ChannelKind = s.private ? "private" : "public";
    const c = emptyChannel(want(s.id, "C"), s.name, kind, owner, created);
    c.isGeneral = s.general ?? false;
    c.archived = s.archived ?? false;
    const members = s.members
      ? s.members.map(resolveMember)
      : [...humans, ...ws.apps.map((a) => a.botUserId)];
    c.members = [...new Set(members)];
    if (s.topic) c.topic = { value: s.topic, creator: owner, last_set: created };
    if (s.purpose) c.purpose = { value: s.purpose, creator: owner, last_set: created };
    if (s.posting_restricted_to) {
      const kinds = s.posting_restricted_to.filter((r) => r === "admin" || r === "ra");
      const users = s.posting_restricted_to.filter((r) => r !== "admin" && r !== "ra").map(resolveMember);
      c.postingRestrictedTo = { type: kinds, user: users };
    }
    ws.channels.set(c.id, c);
  }
  for (const d of seed.dms ?? []) {
    const members = [...new Set(d.members.map(resolveMember))];
    const kind: ChannelKind = members.length === 2 ? "im" : "mpim";
    const names = members.map((m) => ws.users.get(m)?.name ?? m);
    const c = emptyChannel(
      want(d.id, kind === "im" ? "D" : "C"),
      kind === "im" ? (d.name ?? names.join("-")) : `mpdm-${names.join("--")}-1`,
      kind,
      members[0] as string,
      created,
    );
    c.members = members;
    if (d.name) c.name = kind === "im" ? d.name : c.name;
    dmAliases.set(c.id, d.name);
    ws.channels.set(c.id, c);
  }
  for (const [k, v] of Object.entries(seed.emoji ?? {}))
    ws.emoji.set(k, v === true ? hostEmoji(ws, k, imageFor(`emoji:${k}`)) : String(v));

  const seedActions = (actions: Actions): void => {
    const labels = new Map<string, string>();
    const msgs = seed.messages ?? [];
    // Seeded history sits in the recent past, one minute apart, ending a minute ago.
    let at = (nowS - 60 * (msgs.length + 1)) * 1_000_000;
    for (const m of msgs) {
      at += 60_000_000;
      const channel = findSeedChannel(ws, dmAliases, m.channel);
      const actor = actions.actorForUser(resolveMember(m.user));
      if (!channel.members.includes(actor.userId)) channel.members.push(actor.userId);
      const threadTs = m.thread ? labels.get(m.thread) : undefined;
      const msg = actions.post(actor, channel, {
        text: m.text,
        threadTs,
        broadcast: m.broadcast,
        silent: true,
        at,
      });
      if (m.id) labels.set(m.id, msg.ts);
      for (const r of m.reactions ?? [])
        msg.reactions.push({ name: r.name, users: [...new Set(r.users.map(resolveMember))] });
    }
    for (const c of ws.channels.values()) c.updatedMs = Math.max(c.updatedMs, created * 1000);
  };
  return { ws, seedActions };
}

function findSeedChannel(ws: Workspace, dmAliases: Map<string, string | undefined>, ref: string): Channel {
  const bare = ref.replace(/^#/, "");
  const c = ws.channelByName(bare) ?? [...ws.channels.values()].find((ch) => dmAliases.get(ch.id) === ref);
  if (!c) throw new Error(`unknown channel "${ref}"`);
  return c;
}
