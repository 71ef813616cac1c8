// createSlackCore(): the stateful half of the fake Slack (state, seed, Web API handlers, control).

import { registerSecret } from "../../../src/util/redact.ts";
import type { StoredMessage, WorkspaceInfo } from "../api.ts";
import type { SlackCore, SlackCoreOptions } from "../internal.ts";
import { loadSeed } from "../seed/index.ts";
import { createWebApiHandlers } from "../web-api/index.ts";
import { Actions, SlackError } from "./actions.ts";
import { buildWorkspace } from "./build.ts";
import { CallRecorder, Faults } from "./calls.ts";
import { appToken, botToken } from "./ids.ts";
import { type MentionResolver, typedToBlocks, validBlocks } from "./richtext.ts";
import type { Channel, Message, User, Workspace } from "./state.ts";

export { defaultSeed, loadSeed, parseSeedYaml, SeedError, validateSeed } from "../seed/index.ts";
export { DEFAULT_BOT_SCOPES } from "./build.ts";

function workspaceInfo(ws: Workspace): WorkspaceInfo {
  const resolveUser = (nameOrId: string): string => {
    const bare = nameOrId.replace(/^@/, "");
    if (ws.users.has(bare)) return bare;
    if (bare === "bot" && ws.apps[0]) return ws.apps[0].botUserId;
    const app = ws.apps.find((a) => a.name === bare);
    if (app) return app.botUserId;
    const u = ws.userByName(bare);
    if (!u)
      throw new Error(
        `fake Slack: unknown user "${nameOrId}" (known: ${[...ws.users.values()].map((x) => x.name).join(", ")})`,
      );
    return u.id;
  };
  const resolveChannel = (nameOrId: string): string => {
    if (ws.channels.has(nameOrId)) return nameOrId;
    const c = ws.channelByName(nameOrId.replace(/^#/, ""));
    if (!c)
      throw new Error(
        `fake Slack: unknown channel "${nameOrId}" (known: ${[...ws.channels.values()].map((x) => x.name).join(", ")})`,
      );
    return c.id;
  };
  return {
    teamId: ws.team.id,
    teamName: ws.team.name,
    domain: ws.team.domain,
    // A getter: an app may get new tokens (replaceToken).
    get apps() {
      return ws.apps.map((a) => ({
        appId: a.id,
        botUserId: a.botUserId,
        botId: a.botId,
        botToken: a.botToken,
        appToken: a.appToken,
        name: a.name,
      }));
    },
    get users() {
      return [...ws.users.values()].map((u) => ({
        id: u.id,
        name: u.name,
        realName: u.realName,
        displayName: u.displayName,
        isBot: u.isBot,
        deleted: u.deleted,
        ...(u.image ? { image: u.image } : {}),
      }));
    },
    get channels() {
      return [...ws.channels.values()].map((c) => ({
        id: c.id,
        name: c.name,
        kind: c.kind,
        isPrivate: c.kind !== "public",
        archived: c.archived,
        members: [...c.members],
      }));
    },
    get bots() {
      return [...ws.bots.values()].filter((b) => !b.userId).map((b) => ({ id: b.id, name: b.name }));
    },
    get usergroups() {
      return [...ws.usergroups.values()].map((g) => ({
        id: g.id,
        handle: g.handle,
        name: g.name,
        users: [...g.users],
      }));
    },
    get emoji() {
      return Object.fromEntries(ws.emoji);
    },
    resolveUser,
    resolveChannel,
  };
}

/** Names in a typed message: users by name, channels by name, user groups by handle. */
function mentionResolver(ws: Workspace): MentionResolver {
  return {
    user: (name) => ws.userByName(name)?.id,
    channel: (name) => ws.channelByName(name)?.id,
    usergroup: (handle) => [...ws.usergroups.values()].find((g) => g.handle === handle)?.id,
  };
}

function stored(ws: Workspace, m: Message): StoredMessage {
  const out: StoredMessage = {
    ts: m.ts,
    text: m.text,
    reactions: m.reactions.map((r) => ({ name: r.name, users: [...r.users], count: r.users.length })),
    files: m.files.flatMap((id) => {
      const f = ws.files.get(id);
      return f ? [{ id: f.id, name: f.name, mimetype: f.mimetype, size: f.size }] : [];
    }),
  };
  if (m.user) out.user = m.user;
  if (m.botId) out.botId = m.botId;
  if (m.threadTs && m.threadTs !== m.ts) out.threadTs = m.threadTs;
  if (m.edited) out.edited = { ...m.edited };
  if (m.blocks) out.blocks = m.blocks;
  if (m.attachments?.length) out.attachments = m.attachments.map((a) => ({ ...a }));
  if (m.subtype) out.subtype = m.subtype;
  if (m.deleted || m.subtype === "tombstone") out.deleted = true;
  return out;
}

/** Control-API errors name the Slack error and the arguments, never a token. */
function controlError(action: string, e: unknown): Error {
  if (e instanceof SlackError) return new Error(`fake Slack control.${action}: ${e.code}`);
  return e instanceof Error ? e : new Error(String(e));
}

export function createSlackCore(opts: SlackCoreOptions): SlackCore {
  const log = opts.log ?? (() => {});
  const seed = loadSeed(opts.seed);
  const { ws, seedActions } = buildWorkspace(seed);
  const actions = new Actions(ws, (appId, event) => {
    opts.socketMode.publish(appId, event);
  });
  seedActions(actions);
  const recorder = new CallRecorder();
  const faults = new Faults();
  const workspace = workspaceInfo(ws);
  const handlers = createWebApiHandlers({ ws, actions, recorder, faults, socketMode: opts.socketMode, log });

  const channelOf = (ref: string): Channel => {
    const c = ws.channels.get(workspace.resolveChannel(ref));
    if (!c) throw new Error(`fake Slack: unknown channel "${ref}"`);
    return c;
  };
  const actor = (ref: string) => actions.actorForUser(workspace.resolveUser(ref));
  /** An integration (seeded under bots:) posts without a user. */
  const integrationActor = (ref: string) => {
    const bot = ws.bots.get(ref) ?? [...ws.bots.values()].find((b) => b.name === ref && !b.userId);
    if (!bot || bot.userId)
      throw new Error(
        `fake Slack: unknown integration "${ref}" (known: ${
          [...ws.bots.values()]
            .filter((b) => !b.userId)
            .map((b) => b.name)
            .join(", ") || "none; seed bots:"
        })`,
      );
    return { userId: "", botId: bot.id };
  };
  const userOf = (ref: string): User => {
    const u = ws.users.get(workspace.resolveUser(ref));
    if (!u) throw new Error(`fake Slack: unknown user "${ref}"`);
    return u;
  };
  const run = <T>(action: string, fn: () => T): Promise<T> => {
    try {
      return Promise.resolve(fn());
    } catch (e) {
      return Promise.reject(controlError(action, e));
    }
  };

  return {
    handlers,
    workspace,
    clearFaults: () => faults.clear(),
    responseWritten: (answer) => recorder.written(answer),
    appIdForTicketOwner: (appId: string) => ws.apps.some((a) => a.id === appId),
    control: {
      postMessage: (a) =>
        run("postMessage", () => {
          const forms = [a.text, a.typed, a.blocks].filter((f) => f !== undefined).length;
          if (forms !== 1) throw new Error("postMessage: give exactly one of text, typed or blocks");
          if ((a.user === undefined) === (a.bot === undefined))
            throw new Error("postMessage: give exactly one of user or bot");
          if (a.blocks !== undefined && !validBlocks(a.blocks)) throw new SlackError("invalid_blocks");
          const blocks = a.typed !== undefined ? typedToBlocks(a.typed, mentionResolver(ws)) : a.blocks;
          const msg = actions.post(
            a.bot !== undefined ? integrationActor(a.bot) : actor(a.user as string),
            channelOf(a.channel),
            { text: a.text, blocks, threadTs: a.threadTs, username: a.username },
          );
          return { ts: msg.ts, text: msg.text, ...(msg.blocks ? { blocks: msg.blocks } : {}) };
        }),
      editMessage: (a) =>
        run("editMessage", () => {
          const msg = actions.update(
            actions.actorForUser(workspace.resolveUser(a.user)),
            channelOf(a.channel),
            a.ts,
            { text: a.text },
          );
          return { ts: msg.ts };
        }),
      deleteMessage: (a) =>
        run("deleteMessage", () => {
          actions.remove(actions.actorForUser(workspace.resolveUser(a.user)), channelOf(a.channel), a.ts);
        }),
      addReaction: (a) =>
        run("addReaction", () =>
          actions.react(
            actions.actorForUser(workspace.resolveUser(a.user)),
            channelOf(a.channel),
            a.ts,
            a.name.replace(/^:|:$/g, ""),
            true,
          ),
        ),
      removeReaction: (a) =>
        run("removeReaction", () =>
          actions.react(
            actions.actorForUser(workspace.resolveUser(a.user)),
            channelOf(a.channel),
            a.ts,
            a.name.replace(/^:|:$/g, ""),
            false,
          ),
        ),
      uploadFile: (a) =>
        run("uploadFile", () => {
          const actor = actions.actorForUser(workspace.resolveUser(a.user));
          const f = actions.newFile(actor.userId, a.filename, a.data.byteLength);
          f.data = new Uint8Array(a.data);
          f.size = a.data.byteLength;
          f.mimetype = a.mimetype;
          const channel = channelOf(a.channel);
          actions.completeAndShare(actor, [{ id: f.id }], channel, {
            threadTs: a.threadTs,
            initialComment: a.initialComment,
          });
          const ts =
            (channel.kind === "public" ? f.shares.public : f.shares.private)[channel.id]?.[0]?.ts ?? "";
          return { fileId: f.id, ts };
        }),
      createChannel: (a) =>
        run("createChannel", () => ({
          channel: actions.createChannel(actor(a.user), a.name, a.private ?? false).id,
        })),
      renameChannel: (a) =>
        run("renameChannel", () => actions.rename(actor(a.user), channelOf(a.channel), a.name)),
      setTopic: (a) => run("setTopic", () => actions.setTopic(actor(a.user), channelOf(a.channel), a.topic)),
      setPurpose: (a) =>
        run("setPurpose", () => actions.setPurpose(actor(a.user), channelOf(a.channel), a.purpose)),
      archiveChannel: (a) =>
        run("archiveChannel", () => actions.setArchived(actor(a.user), channelOf(a.channel), true)),
      unarchiveChannel: (a) =>
        run("unarchiveChannel", () => actions.setArchived(actor(a.user), channelOf(a.channel), false)),
      joinChannel: (a) =>
        run("joinChannel", () => {
          const c = channelOf(a.channel);
          if (c.archived) throw new SlackError("is_archived");
          if (!actions.join(userOf(a.user), c)) throw new SlackError("already_in_channel");
        }),
      leaveChannel: (a) =>
        run("leaveChannel", () => actions.removeMember(userOf(a.user), channelOf(a.channel))),
      inviteToChannel: (a) =>
        run("inviteToChannel", () =>
          actions.invite(actor(a.user), channelOf(a.channel), a.users.map(workspace.resolveUser)),
        ),
      kickFromChannel: (a) =>
        run("kickFromChannel", () =>
          actions.removeMember(userOf(a.target), channelOf(a.channel), actor(a.user)),
        ),
      openConversation: (a) =>
        run("openConversation", () => {
          const { channel, created } = actions.openConversation(
            workspace.resolveUser(a.user),
            a.with.map(workspace.resolveUser),
          );
          return { channel: channel.id, created };
        }),
      updateProfile: (a) =>
        run("updateProfile", () => {
          const u = userOf(a.user);
          actions.updateUser(u, { displayName: a.displayName, realName: a.realName, avatar: a.avatar });
          return a.avatar ? { avatarUrl: u.image } : {};
        }),
      deactivateUser: (a) =>
        run("deactivateUser", () => actions.updateUser(userOf(a.user), { deleted: true })),
      changeEmoji: (a) => run("changeEmoji", () => ({ value: actions.changeEmoji(a) })),
      image: (url) => {
        try {
          return ws.images.get(new URL(url).pathname);
        } catch {
          return undefined;
        }
      },
      unfurl: (a) =>
        run("unfurl", () => {
          actions.unfurl(channelOf(a.channel), a.ts, { url: a.url, title: a.title, text: a.text });
        }),
      calls: () => recorder.calls(),
      waitForCall: (predicate, o) => recorder.waitForCall(predicate, o),
      history: (channel) => channelOf(channel).messages.map((m) => stored(ws, m)),
      rateLimit: (method, o) => faults.rateLimit(method, o),
      delayResponses: (method, ms) => faults.delayResponses(method, ms),
      revokeToken: (token) => faults.revokeToken(token),
      outage: (method, mode) => faults.outage(method, mode),
      replaceToken: (kind, ref) =>
        run("replaceToken", () => {
          const app = ref ? ws.apps.find((a) => a.id === ref || a.name === ref) : ws.apps[0];
          if (!app) throw new Error(`fake Slack: unknown app "${ref}"`);
          // The old token is revoked for good; the new one works from now on.
          const field = kind === "bot" ? "botToken" : "appToken";
          faults.retireToken(app[field]);
          app[field] = kind === "bot" ? botToken() : appToken(app.id);
          registerSecret(app[field]);
          log(`app ${app.id}: new ${kind} token`);
          return { token: app[field] };
        }),
    },
  };
}
