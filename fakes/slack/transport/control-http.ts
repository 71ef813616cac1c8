// The control API over HTTP (/_control/...), for the standalone fake and for anything outside the
// test process. JSON in, JSON out; bad input gets 400 with a message that says what to send.
import type { IncomingMessage, ServerResponse } from "node:http";
import { redact } from "../../../src/util/redact.ts";
import type { DisconnectReason, SlackControl, WorkspaceInfo } from "../api.ts";
import { sendJson } from "./http-server.ts";

class BadRequest extends Error {}

const REASONS = ["warning", "refresh_requested", "link_disabled", "too_many_websockets"];

type Body = Record<string, unknown>;

function field(body: Body, ...names: string[]): unknown {
  for (const n of names) if (body[n] !== undefined && body[n] !== null) return body[n];
  return undefined;
}

function str(body: Body, name: string, alt?: string): string {
  const v = field(body, name, ...(alt ? [alt] : []));
  if (typeof v !== "string" || v === "") throw new BadRequest(`"${name}" is required (a non-empty string)`);
  return v;
}

function optStr(body: Body, name: string, alt?: string): string | undefined {
  const v = field(body, name, ...(alt ? [alt] : []));
  if (v === undefined) return undefined;
  if (typeof v !== "string") throw new BadRequest(`"${name}" must be a string`);
  return v;
}

/** A string that may be empty (a topic or purpose can be cleared). */
function text(body: Body, name: string): string {
  const v = field(body, name);
  if (typeof v !== "string") throw new BadRequest(`"${name}" is required (a string, "" clears it)`);
  return v;
}

function flag(body: Body, name: string): boolean {
  const v = field(body, name);
  if (v === undefined) return false;
  if (typeof v !== "boolean") throw new BadRequest(`"${name}" must be true or false`);
  return v;
}

/** A non-empty list of user names or IDs. */
function names(body: Body, name: string): string[] {
  const v = field(body, name);
  if (!Array.isArray(v) || !v.length || !v.every((x) => typeof x === "string" && x !== ""))
    throw new BadRequest(`"${name}" is required (a non-empty list of user names or IDs)`);
  return v as string[];
}

function num(body: Body, name: string, alt?: string, dflt?: number): number {
  const v = field(body, name, ...(alt ? [alt] : []));
  if (v === undefined && dflt !== undefined) return dflt;
  const n = typeof v === "string" && v.trim() !== "" ? Number(v) : v;
  if (typeof n !== "number" || Number.isNaN(n) || n < 0) {
    throw new BadRequest(`"${name}" is required (a number >= 0)`);
  }
  return n;
}

function reason(body: Body): DisconnectReason | undefined {
  const r = field(body, "reason");
  if (r === undefined) return undefined;
  if (typeof r !== "string" || !REASONS.includes(r)) {
    throw new BadRequest(`"reason" must be one of ${REASONS.join(", ")}`);
  }
  return r as DisconnectReason;
}

/** The workspace without tokens. */
export function publicWorkspace(ws: WorkspaceInfo): Record<string, unknown> {
  return {
    teamId: ws.teamId,
    teamName: ws.teamName,
    domain: ws.domain,
    apps: ws.apps.map((a) => ({ appId: a.appId, botUserId: a.botUserId, botId: a.botId, name: a.name })),
    users: ws.users,
    channels: ws.channels,
  };
}

export function createControlHandler(
  control: SlackControl,
  workspace: WorkspaceInfo,
  log: (l: string) => void,
) {
  return async (req: IncomingMessage, res: ServerResponse, url: URL, raw: Buffer): Promise<void> => {
    const method = req.method ?? "GET";
    const path = url.pathname.replace(/^\/_control/, "").replace(/\/+$/, "") || "/";
    try {
      let body: Body = {};
      if (raw.length) {
        try {
          const parsed: unknown = JSON.parse(raw.toString("utf8"));
          if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error();
          body = parsed as Body;
        } catch {
          throw new BadRequest("body must be a JSON object");
        }
      }
      for (const [k, v] of url.searchParams) if (body[k] === undefined) body[k] = v;
      const result = await route(method, path, body);
      if (result === NOT_FOUND) {
        sendJson(res, 404, { ok: false, error: `no control route ${method} /_control${path}` });
        return;
      }
      sendJson(res, 200, { ok: true, ...(result as object) });
    } catch (err) {
      const message = redact((err as Error).message);
      if (!(err instanceof BadRequest)) log(`control: ${method} ${path} failed: ${message}`);
      sendJson(res, 400, { ok: false, error: message });
    }
  };

  async function route(method: string, path: string, body: Body): Promise<unknown> {
    const key = `${method} ${path}`;
    const user = () => workspace.resolveUser(str(body, "user"));
    const channel = () => workspace.resolveChannel(str(body, "channel"));
    switch (key) {
      case "POST /messages": {
        const blocks = field(body, "blocks");
        if (blocks !== undefined && !Array.isArray(blocks))
          throw new BadRequest(`"blocks" must be a list of blocks`);
        const bot = optStr(body, "bot");
        const author = bot ? undefined : user();
        const where = channel();
        const forms = ["text", "typed", "blocks"].filter((k) => field(body, k) !== undefined);
        if (forms.length !== 1)
          throw new BadRequest(`"text" is required (or "typed", or "blocks"; exactly one)`);
        return control.postMessage({
          user: author,
          bot,
          channel: where,
          text: forms[0] === "text" ? str(body, "text") : undefined,
          typed: forms[0] === "typed" ? str(body, "typed") : undefined,
          blocks: blocks as unknown[] | undefined,
          threadTs: optStr(body, "thread_ts", "threadTs"),
          username: optStr(body, "username"),
        });
      }
      case "POST /messages/unfurl":
        await control.unfurl({
          channel: channel(),
          ts: str(body, "ts"),
          url: str(body, "url"),
          title: str(body, "title"),
          text: optStr(body, "text"),
        });
        return {};
      case "POST /emoji": {
        const image = optStr(body, "image");
        if (image !== undefined && !/^[A-Za-z0-9+/=\s_-]*$/.test(image))
          throw new BadRequest(`"image" must be base64 image bytes`);
        return control.changeEmoji({
          add: str(body, "name"),
          alias: optStr(body, "alias"),
          image:
            image === undefined
              ? undefined
              : {
                  data: new Uint8Array(Buffer.from(image, "base64")),
                  mimetype: optStr(body, "mimetype") ?? "image/png",
                },
        });
      }
      case "DELETE /emoji":
        return control.changeEmoji({ remove: str(body, "name") });
      case "PUT /emoji/name":
        return control.changeEmoji({ rename: str(body, "name"), to: str(body, "new_name", "newName") });
      case "PUT /messages":
      case "PATCH /messages":
        return control.editMessage({
          user: user(),
          channel: channel(),
          ts: str(body, "ts"),
          text: str(body, "text"),
        });
      case "DELETE /messages":
        await control.deleteMessage({ user: user(), channel: channel(), ts: str(body, "ts") });
        return {};
      case "POST /reactions":
      case "DELETE /reactions": {
        const args = { user: user(), channel: channel(), ts: str(body, "ts"), name: str(body, "name") };
        await (method === "POST" ? control.addReaction(args) : control.removeReaction(args));
        return {};
      }
      case "POST /files": {
        const data = str(body, "data");
        if (!/^[A-Za-z0-9+/=\s_-]*$/.test(data)) throw new BadRequest(`"data" must be base64`);
        return control.uploadFile({
          user: user(),
          channel: channel(),
          filename: str(body, "filename"),
          mimetype: optStr(body, "mimetype") ?? "application/octet-stream",
          data: new Uint8Array(Buffer.from(data, "base64")),
          threadTs: optStr(body, "thread_ts", "threadTs"),
          initialComment: optStr(body, "initial_comment", "initialComment"),
        });
      }
      case "POST /channels":
        return control.createChannel({
          user: user(),
          name: str(body, "name"),
          private: flag(body, "private"),
        });
      case "PUT /channels/name":
        await control.renameChannel({ user: user(), channel: channel(), name: str(body, "name") });
        return {};
      case "PUT /channels/topic":
        await control.setTopic({ user: user(), channel: channel(), topic: text(body, "topic") });
        return {};
      case "PUT /channels/purpose":
        await control.setPurpose({ user: user(), channel: channel(), purpose: text(body, "purpose") });
        return {};
      case "POST /channels/archive":
      case "POST /channels/unarchive": {
        const args = { user: user(), channel: channel() };
        await (path.endsWith("/unarchive") ? control.unarchiveChannel(args) : control.archiveChannel(args));
        return {};
      }
      case "POST /channels/members": {
        const users = field(body, "users");
        if (users === undefined) await control.joinChannel({ user: user(), channel: channel() });
        else await control.inviteToChannel({ user: user(), channel: channel(), users: names(body, "users") });
        return {};
      }
      case "DELETE /channels/members": {
        const target = optStr(body, "target");
        if (target) await control.kickFromChannel({ user: user(), channel: channel(), target });
        else await control.leaveChannel({ user: user(), channel: channel() });
        return {};
      }
      case "POST /conversations":
        return control.openConversation({ user: user(), with: names(body, "with") });
      case "PATCH /users/profile": {
        const avatar = optStr(body, "avatar");
        if (avatar !== undefined && !/^[A-Za-z0-9+/=\s_-]*$/.test(avatar))
          throw new BadRequest(`"avatar" must be base64 image bytes`);
        return control.updateProfile({
          user: user(),
          displayName: optStr(body, "display_name", "displayName"),
          realName: optStr(body, "real_name", "realName"),
          avatar:
            avatar === undefined
              ? undefined
              : {
                  data: new Uint8Array(Buffer.from(avatar, "base64")),
                  mimetype: optStr(body, "avatar_mimetype", "avatarMimetype") ?? "image/png",
                },
        });
      }
      case "POST /users/deactivate":
        await control.deactivateUser({ user: user() });
        return {};
      case "GET /calls": {
        const m = optStr(body, "method");
        const since = num(body, "since", undefined, 0);
        return { calls: control.calls().filter((c) => c.seq > since && (!m || c.method === m)) };
      }
      case "GET /envelopes":
        return { envelopes: control.envelopes() };
      case "GET /connections":
        return { connections: control.connections() };
      case "GET /workspace":
        return { workspace: publicWorkspace(workspace) };
      case "POST /faults/disconnect":
        control.disconnect(reason(body));
        return {};
      case "POST /faults/disconnect-every":
        control.disconnectEvery(num(body, "every_ms", "everyMs"), reason(body));
        return {};
      case "POST /faults/rate-limit":
        control.rateLimit(str(body, "method"), {
          calls: countOrInfinity(body, "calls", 1),
          retryAfterSeconds: num(body, "retry_after_seconds", "retryAfterSeconds", 1),
        });
        return {};
      case "POST /faults/outage": {
        const status = field(body, "status");
        control.outage(
          optStr(body, "method") ?? "*",
          status === "timeout"
            ? "timeout"
            : status === undefined
              ? undefined
              : { status: num(body, "status") },
        );
        return {};
      }
      case "POST /faults/drop-acks":
        control.dropAcks(countOrInfinity(body, "count"));
        return {};
      case "POST /faults/connection-lifetime": {
        const ms = field(body, "ms");
        control.connectionLifetime(ms === undefined ? undefined : num(body, "ms"), {
          warningMs: field(body, "warning_ms") === undefined ? undefined : num(body, "warning_ms"),
        });
        return {};
      }
      case "POST /faults/replace-token": {
        const kind = str(body, "kind");
        if (kind !== "bot" && kind !== "app") throw new BadRequest('kind must be "bot" or "app"');
        // The new token goes to the caller only, as the CLI prints the first ones (never logged).
        return await control.replaceToken(kind, optStr(body, "app"));
      }
      case "POST /faults/delay-envelopes":
        control.delayEnvelopes(num(body, "ms"));
        return {};
      case "POST /faults/delay-responses":
        control.delayResponses(optStr(body, "method") ?? "*", num(body, "ms"));
        return {};
      case "POST /faults/revoke-token":
        control.revokeToken(str(body, "token"));
        return {};
      case "POST /faults/suppress-pings": {
        const s = field(body, "suppress");
        control.suppressPings(s === undefined ? true : s === true || s === "true");
        return {};
      }
      case "POST /faults/clear":
        control.clearFaults();
        return {};
    }
    if (method === "GET" && path.startsWith("/history/")) {
      const ch = workspace.resolveChannel(decodeURIComponent(path.slice("/history/".length)));
      return { messages: control.history(ch) };
    }
    return NOT_FOUND;
  }
}

const NOT_FOUND = Symbol("not found");

/** A count field that may also be "Infinity" (until set again). */
function countOrInfinity(body: Body, name: string, dflt?: number): number {
  const c = field(body, name);
  return c === "Infinity" || c === "infinity" ? Number.POSITIVE_INFINITY : num(body, name, undefined, dflt);
}
