// State -> the JSON shapes Slack sends. Field types matter: slack-go rejects strings where it
// expects integers (created, updated, timestamps) and drops whole envelopes on a mismatch.
import type { Bot, Channel, Message, StoredFile, User, Usergroup, Workspace } from "./state.ts";

export type Json = Record<string, unknown>;

/** Where file URLs point; rewritten to the request origin for plain-HTTP clients. */
export const FILES_ORIGIN = "https://files.slack.com";

export function fileUrls(
  ws: Workspace,
  f: StoredFile,
): { url_private: string; url_private_download: string; permalink: string; permalink_public: string } {
  const name = encodeURIComponent(f.name);
  const base = `${FILES_ORIGIN}/files-pri/${ws.team.id}-${f.id}`;
  return {
    url_private: `${base}/${name}`,
    url_private_download: `${base}/download/${name}`,
    permalink: `https://${ws.team.domain}.slack.com/files/${f.user}/${f.id}/${name}`,
    permalink_public: `https://slack-files.com/${ws.team.id}-${f.id}-${f.uploadId.slice(0, 10).toLowerCase()}`,
  };
}

export function renderFile(ws: Workspace, f: StoredFile, withShares: boolean): Json {
  const out: Json = {
    id: f.id,
    created: f.created,
    timestamp: f.created,
    name: f.name,
    title: f.title,
    mimetype: f.mimetype,
    filetype: f.filetype,
    pretty_type: f.prettyType,
    user: f.user,
    user_team: ws.team.id,
    editable: false,
    size: f.size,
    mode: "hosted",
    is_external: false,
    external_type: "",
    is_public: f.channels.some((c) => ws.channels.get(c)?.kind === "public"),
    public_url_shared: false,
    display_as_bot: false,
    username: "",
    ...fileUrls(ws, f),
    file_access: "visible",
    has_rich_preview: false,
    media_display_type: "unknown",
  };
  if (withShares) {
    out.channels = f.channels.filter((c) => ws.channels.get(c)?.kind === "public");
    out.groups = f.channels.filter(
      (c) => ws.channels.get(c)?.kind === "private" || ws.channels.get(c)?.kind === "mpim",
    );
    out.ims = f.channels.filter((c) => ws.channels.get(c)?.kind === "im");
    const shares: Json = {};
    if (Object.keys(f.shares.public).length) shares.public = f.shares.public;
    if (Object.keys(f.shares.private).length) shares.private = f.shares.private;
    out.shares = shares;
    out.comments_count = 0;
  }
  return out;
}

export function renderBotProfile(ws: Workspace, bot: Bot): Json {
  return {
    id: bot.id,
    deleted: bot.deleted,
    name: bot.name,
    updated: bot.updated,
    app_id: bot.appId,
    icons: {},
    team_id: ws.team.id,
  };
}

export function renderMessage(ws: Workspace, channel: Channel, m: Message): Json {
  const out: Json = { type: "message" };
  if (m.subtype) out.subtype = m.subtype;
  if (m.user) out.user = m.user;
  if (m.botId) out.bot_id = m.botId;
  if (m.appId) out.app_id = m.appId;
  out.text = m.text;
  out.ts = m.ts;
  out.team = ws.team.id;
  if (m.clientMsgId) out.client_msg_id = m.clientMsgId;
  if (m.username) out.username = m.username;
  if (m.topic !== undefined) out.topic = m.topic;
  if (m.purpose !== undefined) out.purpose = m.purpose;
  if (m.name !== undefined) out.name = m.name;
  if (m.oldName !== undefined) out.old_name = m.oldName;
  if (m.inviter) out.inviter = m.inviter;
  if (m.iconUrl) out.icons = { image_48: m.iconUrl };
  if (m.botId) {
    const bot = ws.bots.get(m.botId);
    if (bot) out.bot_profile = renderBotProfile(ws, bot);
  }
  if (m.blocks) out.blocks = m.blocks;
  if (m.attachments?.length) out.attachments = m.attachments.map((a) => ({ ...a }));
  if (m.files.length) {
    out.files = m.files.flatMap((id) => {
      const f = ws.files.get(id);
      return f ? [renderFile(ws, f, false)] : [];
    });
    out.upload = m.subtype === "file_share";
    out.display_as_bot = false;
  }
  if (m.edited) out.edited = { ...m.edited };
  if (m.threadTs) {
    out.thread_ts = m.threadTs;
    if (m.threadTs !== m.ts && m.parentUserId) out.parent_user_id = m.parentUserId;
    if (m.subtype === "thread_broadcast") {
      const root = channel.byTs.get(m.threadTs);
      if (root && root !== m) out.root = renderMessage(ws, channel, root);
    }
  }
  if (m.replies?.length) {
    const live = m.replies.filter((ts) => !channel.byTs.get(ts)?.deleted);
    const users: string[] = [];
    for (const ts of live) {
      const r = channel.byTs.get(ts);
      const u = r?.user ?? r?.botId;
      if (u && !users.includes(u)) users.push(u);
    }
    out.reply_count = live.length;
    out.reply_users_count = users.length;
    out.latest_reply = live[live.length - 1] ?? m.ts;
    out.reply_users = users;
    out.is_locked = false;
    out.subscribed = false;
  }
  if (m.reactions.length)
    out.reactions = m.reactions.map((r) => ({ name: r.name, users: [...r.users], count: r.users.length }));
  return out;
}

export function renderUser(ws: Workspace, u: User, opts: { locale?: boolean } = {}): Json {
  const [first = "", ...rest] = u.realName.split(" ");
  const profile: Json = {
    title: "",
    phone: "",
    skype: "",
    real_name: u.realName,
    real_name_normalized: u.realName,
    display_name: u.displayName,
    display_name_normalized: u.displayName,
    status_text: "",
    status_emoji: "",
    status_expiration: 0,
    first_name: first,
    last_name: rest.join(" "),
    team: ws.team.id,
  };
  if (u.email) profile.email = u.email;
  if (u.image) {
    for (const size of [24, 32, 48, 72, 192, 512]) profile[`image_${size}`] = u.image;
    profile.image_original = u.image;
    profile.is_custom_image = true;
    if (u.avatarHash) profile.avatar_hash = u.avatarHash;
  }
  if (u.isBot) {
    profile.bot_id = u.botId;
    profile.api_app_id = u.appId;
    profile.always_active = false;
  }
  const out: Json = {
    id: u.id,
    team_id: ws.team.id,
    name: u.name,
    deleted: u.deleted,
    color: "9f69e7",
    real_name: u.realName,
    tz: u.tz,
    tz_label: u.tz === "Europe/Paris" ? "Central European Time" : "Coordinated Universal Time",
    tz_offset: u.tzOffset,
    profile,
    is_admin: u.isAdmin,
    is_owner: u.isOwner,
    is_primary_owner: u.isOwner,
    is_restricted: false,
    is_ultra_restricted: false,
    is_bot: u.isBot,
    is_app_user: false,
    updated: u.updated,
    is_email_confirmed: !u.isBot,
    who_can_share_contact_card: "EVERYONE",
  };
  if (opts.locale) out.locale = "en-US";
  return out;
}

export function renderBot(b: Bot): Json {
  const out: Json = { id: b.id, deleted: b.deleted, name: b.name, updated: b.updated, app_id: b.appId };
  // Integrations (incoming webhooks) have no bot user.
  if (b.userId) out.user_id = b.userId;
  out.icons = {};
  return out;
}

export function channelType(c: Channel): "channel" | "group" | "im" | "mpim" {
  return c.kind === "public" ? "channel" : c.kind === "private" ? "group" : c.kind;
}

export function renderChannel(
  ws: Workspace,
  c: Channel,
  viewer: string,
  opts: { latest?: boolean; numMembers?: boolean; locale?: boolean } = {},
): Json {
  let out: Json;
  if (c.kind === "im") {
    const other = c.members.find((m) => m !== viewer) ?? viewer;
    out = {
      id: c.id,
      created: c.created,
      is_archived: false,
      is_im: true,
      is_org_shared: false,
      context_team_id: ws.team.id,
      updated: c.updatedMs,
      user: other,
      is_user_deleted: ws.users.get(other)?.deleted ?? false,
      priority: 0,
    };
  } else {
    out = {
      id: c.id,
      name: c.name,
      is_channel: c.kind !== "mpim",
      is_group: false,
      is_im: false,
      is_mpim: c.kind === "mpim",
      is_private: c.kind !== "public",
      created: c.created,
      is_archived: c.archived,
      is_general: c.isGeneral,
      unlinked: 0,
      name_normalized: c.name,
      is_shared: false,
      is_org_shared: false,
      is_pending_ext_shared: false,
      pending_shared: [],
      context_team_id: ws.team.id,
      updated: c.updatedMs,
      parent_conversation: null,
      creator: c.creator,
      is_ext_shared: false,
      shared_team_ids: [ws.team.id],
      pending_connected_team_ids: [],
      is_member: c.members.includes(viewer),
      topic: { ...c.topic },
      purpose: { ...c.purpose },
      previous_names: [],
    };
    // Slack lists properties.posting_restricted_to only for channels with posting permissions set.
    if (c.postingRestrictedTo)
      out.properties = {
        posting_restricted_to: {
          type: [...c.postingRestrictedTo.type],
          user: [...c.postingRestrictedTo.user],
        },
      };
    if (opts.numMembers) out.num_members = c.members.length;
  }
  if (opts.locale) out.locale = "en-US";
  if (opts.latest) {
    const latest = ws.latest(c);
    if (latest) out.latest = renderMessage(ws, c, latest);
  }
  return out;
}

/** usergroups.list entry; `users` and `user_count` only when asked for (include_users / include_count). */
export function renderUsergroup(
  ws: Workspace,
  g: Usergroup,
  opts: { users?: boolean; count?: boolean } = {},
): Json {
  const out: Json = {
    id: g.id,
    team_id: ws.team.id,
    is_usergroup: true,
    is_subteam: true,
    name: g.name,
    description: g.description,
    handle: g.handle,
    is_external: false,
    date_create: g.created,
    date_update: g.updated,
    date_delete: g.disabled ? g.updated : 0,
    auto_type: null,
    auto_provision: false,
    enterprise_subteam_id: "",
    created_by: g.createdBy,
    updated_by: g.createdBy,
    deleted_by: null,
    prefs: { channels: [], groups: [] },
  };
  if (opts.users) out.users = [...g.users];
  if (opts.count) out.user_count = g.users.length;
  return out;
}
