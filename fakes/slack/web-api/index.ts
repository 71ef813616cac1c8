// The fake Slack's Web API as msw request handlers: https://slack.com/api/<method> (any origin, so
// the same handlers serve http://127.0.0.1:PORT/api/ too), the upload URL and file downloads.
//
// Serving them over a real socket (msw 3.0.5 exports getResponse from "msw"):
//   import { getResponse } from "msw";
//   const request = new Request(`https://slack.com${req.url}`, { method, headers, body, duplex: "half" });
//   const response = await getResponse(core.handlers, request);   // undefined = no handler matched
// Build the Request with the URL the client used (https://slack.com/... behind the proxy,
// http://127.0.0.1:PORT/... on the plain port): the host decides which URLs the fake hands out.
// In-process tests use setupServer(...core.handlers) from "msw/node".
// Optional: set header `x-harness-received-at: <now() when the request headers arrived>` on the
// Request; RecordedCall.receivedAt then uses it instead of the handler's own start time.
import { type HttpHandler, http } from "msw";
import { now } from "../../../src/util/clock.ts";
import { redact } from "../../../src/util/redact.ts";
import type { RecordedCall } from "../api.ts";
import { type Actions, SlackError } from "../core/actions.ts";
import { type CallRecorder, type Faults, outageError } from "../core/calls.ts";
import { isImageHost } from "../core/images.ts";
import { type Json, renderUser } from "../core/render.ts";
import type { App, Workspace } from "../core/state.ts";
import type { SocketModePort } from "../internal.ts";
import { METHODS } from "./methods.ts";
import { parseMultipart } from "./multipart.ts";
import { flatten, parseRequest } from "./request.ts";

export interface WebApiDeps {
  ws: Workspace;
  actions: Actions;
  recorder: CallRecorder;
  faults: Faults;
  socketMode: SocketModePort;
  log: (line: string) => void;
}

type Auth = RecordedCall["auth"];

function isSlackHost(host: string): boolean {
  return host === "slack.com" || host.endsWith(".slack.com");
}

let reqCounter = 0;
function reqId(): string {
  reqCounter = (reqCounter + 1) % 1_000_000_000;
  return `${Date.now().toString(36)}${reqCounter.toString(36)}`;
}

function jsonResponse(
  url: URL,
  body: Json,
  status: number,
  extraHeaders: Record<string, string> = {},
): Response {
  let text = JSON.stringify(body);
  // Plain-HTTP clients get file and upload URLs on the origin they used.
  if (!isSlackHost(url.hostname)) text = text.replaceAll("https://files.slack.com/", `${url.origin}/`);
  const headers: Record<string, string> = {
    "content-type": "application/json; charset=utf-8",
    "x-slack-req-id": reqId(),
    "cache-control": "private, no-cache, no-store, must-revalidate",
    ...extraHeaders,
  };
  if (body.ok === false && typeof body.error === "string") headers["x-slack-failure"] = body.error;
  return new Response(text, { status, headers });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function createWebApiHandlers(deps: WebApiDeps): HttpHandler[] {
  const { ws, recorder, faults } = deps;

  // Tokens ever issued (a replaced one stays known, and revoked).
  const tokenIndex = new Map<string, { app: App; kind: "bot" | "app" }>();
  const indexTokens = () => {
    for (const app of ws.apps) {
      tokenIndex.set(app.botToken, { app, kind: "bot" });
      tokenIndex.set(app.appToken, { app, kind: "app" });
    }
  };
  indexTokens();
  const tokenOwner = (token: string) => {
    if (!tokenIndex.has(token)) indexTokens();
    return tokenIndex.get(token);
  };

  /** Records the call with the answer it gets; returns that answer. */
  const record = (
    call: Omit<RecordedCall, "response" | "respondedAt"> & { response: Json },
    answer: Response,
  ): Response => {
    recorder.record({ ...call, respondedAt: now() } as RecordedCall, answer);
    return answer;
  };

  const apiHandler = http.all(
    ({ request }) => {
      const path = pathOf(request.url);
      return path.startsWith("/api/");
    },
    async ({ request }) => {
      const receivedAt = arrivalOf(request);
      const seq = recorder.nextSeq();
      const url = new URL(request.url);
      const method = decodeURIComponent(url.pathname.slice("/api/".length)).replace(/\/+$/, "");
      let params: Record<string, string> = {};
      let auth: Auth = { kind: "none" };
      const respond = (body: Json, status = 200, headers: Record<string, string> = {}): Response => {
        return record(
          { seq, method, params, auth, receivedAt, response: body, status },
          jsonResponse(url, body, status, headers),
        );
      };
      try {
        const parsed = await parseRequest(request, url);
        params = parsed.params;
        const spec = METHODS[method];
        if (!spec) return respond({ ok: false, error: "unknown_method", req_method: method });
        const outage = await faults.outageStatus(method);
        if (outage !== undefined) return respond({ ok: false, error: outageError(outage) }, outage);
        const delay = faults.delayFor(method);
        if (delay > 0) await sleep(delay);
        const retryAfter = faults.takeRateLimit(method);
        if (retryAfter !== undefined)
          return respond({ ok: false, error: "ratelimited" }, 429, { "retry-after": String(retryAfter) });
        if (parsed.malformed) return respond({ ok: false, error: parsed.malformed });

        // Token checks in Slack's order: none, unknown, revoked, wrong kind, scope.
        if (!parsed.token) return respond({ ok: false, error: "not_authed" });
        const found = tokenOwner(parsed.token);
        if (!found) return respond({ ok: false, error: "invalid_auth" });
        auth = { kind: found.kind, appId: found.app.id };
        if (faults.isRevoked(parsed.token)) return respond({ ok: false, error: "token_revoked" });
        if (spec.token === "app" && parsed.tokenSource !== "header")
          return respond({ ok: false, error: "not_authed" });
        if (found.kind !== spec.token) return respond({ ok: false, error: "not_allowed_token_type" });
        const granted = found.kind === "bot" ? found.app.botScopes : found.app.appScopes;
        const scopeHeaders = {
          "x-oauth-scopes": granted.join(","),
          "x-accepted-oauth-scopes": spec.scopes.join(","),
        };
        if (spec.scopes.length && !spec.scopes.some((s) => granted.includes(s)))
          return respond(
            { ok: false, error: "missing_scope", needed: spec.scopes[0], provided: granted.join(",") },
            200,
            scopeHeaders,
          );

        const app = found.app;
        const actor = { userId: app.botUserId, botId: app.botId, appId: app.id };
        let body: Json;
        try {
          body = {
            ok: true,
            ...spec.run({
              params,
              files: parsed.files,
              actor,
              app,
              ws,
              actions: deps.actions,
              socketMode: deps.socketMode,
              url,
            }),
          };
        } catch (e) {
          if (e instanceof SlackError)
            return respond({ ok: false, error: e.code, ...e.extra }, 200, scopeHeaders);
          throw e;
        }
        if (parsed.warnings.length) {
          const warnings = [
            ...(((body.response_metadata as Json | undefined)?.warnings as string[] | undefined) ?? []),
            ...parsed.warnings,
          ];
          body.warning = warnings.join(",");
          body.response_metadata = { ...(body.response_metadata as Json | undefined), warnings };
        }
        return respond(body, 200, scopeHeaders);
      } catch (e) {
        deps.log(
          redact(`fake-slack: ${method} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`),
        );
        return respond({ ok: false, error: "internal_error" });
      }
    },
  );

  const uploadHandler = http.post(
    ({ request }) => pathOf(request.url).startsWith("/upload/v1/"),
    async ({ request }) => {
      const receivedAt = arrivalOf(request);
      const seq = recorder.nextSeq();
      const url = new URL(request.url);
      const uploadId = url.pathname.slice("/upload/v1/".length);
      const params: Record<string, string> = {};
      let auth: Auth = { kind: "none" };
      const finish = (status: number, text: string, response: Json): Response => {
        return record(
          { seq, method: "files.upload", params, auth, receivedAt, response, status },
          new Response(text, { status, headers: { "content-type": "text/plain; charset=utf-8" } }),
        );
      };
      try {
        const bearer = /^Bearer\s+(\S+)/i.exec(request.headers.get("authorization") ?? "")?.[1];
        const who = bearer ? tokenOwner(bearer) : undefined;
        if (who) auth = { kind: who.kind, appId: who.app.id };
        const fileId = ws.uploads.get(uploadId);
        const file = fileId ? ws.files.get(fileId) : undefined;
        if (!file || file.completed)
          return finish(404, "Not Found", { ok: false, error: "upload_not_found" });
        params.file_id = file.id;
        const delay = faults.delayFor("files.upload");
        if (delay > 0) await sleep(delay);
        let data: Uint8Array;
        let mimetype: string | undefined;
        const contentType = (request.headers.get("content-type") ?? "").toLowerCase();
        const raw = new Uint8Array(await request.arrayBuffer());
        const parts = contentType.startsWith("multipart/form-data")
          ? parseMultipart(raw, contentType)
          : undefined;
        if (parts) {
          // slack-go sends part "file", the Node SDK part "body"; take the first file part either way.
          const part =
            parts.find((p) => p.filename !== undefined) ??
            parts.find((p) => p.name === "file" || p.name === "body");
          if (!part) return finish(400, "Bad Request", { ok: false, error: "no_file_data" });
          data = part.data;
          if (part.type && part.type !== "application/octet-stream") mimetype = part.type;
        } else {
          data = raw;
          if (
            contentType &&
            !contentType.startsWith("multipart/") &&
            !contentType.startsWith("application/octet-stream") &&
            !contentType.startsWith("application/x-www-form-urlencoded")
          )
            mimetype = contentType.split(";")[0];
        }
        file.data = data;
        file.size = data.byteLength;
        if (mimetype && file.mimetype === "application/octet-stream") file.mimetype = mimetype;
        params.size = String(data.byteLength);
        return finish(200, `OK - ${data.byteLength}`, { ok: true, size: data.byteLength });
      } catch (e) {
        deps.log(
          redact(`fake-slack: upload failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`),
        );
        return finish(200, "OK - 0", { ok: false, error: "internal_error" });
      }
    },
  );

  const downloadHandler = http.get(
    ({ request }) => pathOf(request.url).startsWith("/files-pri/"),
    async ({ request }) => {
      const receivedAt = arrivalOf(request);
      const seq = recorder.nextSeq();
      const url = new URL(request.url);
      const params: Record<string, string> = {};
      let auth: Auth = { kind: "none" };
      // Slack answers 200 either way: the file, or its sign-in page.
      const finish = (response: Json, body: Response): Response =>
        record({ seq, method: "files.download", params, auth, receivedAt, response, status: 200 }, body);
      const loginPage = (reason: string): Response =>
        finish(
          { ok: false, error: reason },
          new Response(LOGIN_PAGE(ws.team.name), {
            status: 200,
            headers: { "content-type": "text/html; charset=utf-8" },
          }),
        );
      try {
        const m = /^\/files-pri\/([A-Z0-9]+)-([A-Z0-9]+)\/(?:download\/)?([^/]+)$/.exec(url.pathname);
        if (m) params.file = m[2] as string;
        const bearer = /^Bearer\s+(\S+)/i.exec(request.headers.get("authorization") ?? "")?.[1];
        const who = bearer ? tokenOwner(bearer) : undefined;
        if (who) auth = { kind: who.kind, appId: who.app.id };
        if (!who || who.kind !== "bot" || (bearer && faults.isRevoked(bearer)))
          return loginPage("not_authed");
        const delay = faults.delayFor("files.download");
        if (delay > 0) await sleep(delay);
        const file = m && m[1] === ws.team.id ? ws.files.get(m[2] as string) : undefined;
        const me = who.app.botUserId;
        const visible =
          file?.data &&
          (file.user === me ||
            file.channels.some((c) => {
              const ch = ws.channels.get(c);
              return ch && (ch.kind === "public" || ch.members.includes(me));
            }));
        if (!file?.data || !visible) return loginPage("file_not_found");
        return finish(
          { ok: true, size: file.size },
          new Response(file.data as Uint8Array<ArrayBuffer>, {
            status: 200,
            headers: {
              "content-type": file.mimetype,
              "content-length": String(file.size),
              "content-disposition": `attachment; filename="${encodeURIComponent(file.name)}"`,
            },
          }),
        );
      } catch (e) {
        deps.log(
          redact(`fake-slack: download failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`),
        );
        return loginPage("internal_error");
      }
    },
  );

  // Images on Slack's image hosts (profile photos, team icons, custom emoji): public, no token, as
  // Slack's CDN serves them; a path the fake does not serve is a 404, as on the CDN.
  const imageHandler = http.get(
    ({ request }) => ws.images.has(pathOf(request.url)) || isImageHost(new URL(request.url).hostname),
    ({ request }) => {
      const receivedAt = arrivalOf(request);
      const seq = recorder.nextSeq();
      const url = new URL(request.url);
      const path = url.pathname;
      const image = ws.images.get(path);
      const status = image ? 200 : 404;
      return record(
        {
          seq,
          method: "images.download",
          params: { host: url.hostname, path },
          auth: { kind: "none" },
          receivedAt,
          response: image ? { ok: true, size: image.data.byteLength } : { ok: false, error: "not_found" },
          status,
        },
        image
          ? new Response(image.data as Uint8Array<ArrayBuffer>, {
              status,
              headers: { "content-type": image.mimetype, "content-length": String(image.data.byteLength) },
            })
          : new Response("Not Found", { status, headers: { "content-type": "text/plain" } }),
      );
    },
  );

  // The edge API's user search (POST edgeapi.slack.com/cache/<team>/users/search), which the bridge's
  // Slack library calls for identifier lookups: a JSON body, sent as text/plain, carrying the token.
  const edgeUserSearch = http.post(
    ({ request }) => /^\/cache\/[A-Z0-9]+\/users\/search$/.test(pathOf(request.url)),
    async ({ request }) => {
      const receivedAt = arrivalOf(request);
      const seq = recorder.nextSeq();
      const url = new URL(request.url);
      let params: Record<string, string> = {};
      let auth: Auth = { kind: "none" };
      const respond = (body: Json): Response =>
        record(
          { seq, method: "edge.users.search", params, auth, receivedAt, response: body, status: 200 },
          jsonResponse(url, body, 200),
        );
      let body: Record<string, unknown>;
      try {
        const parsed: unknown = JSON.parse(await request.text());
        if (!parsed || typeof parsed !== "object" || Array.isArray(parsed))
          return respond({ ok: false, error: "json_not_object" });
        body = parsed as Record<string, unknown>;
      } catch {
        return respond({ ok: false, error: "invalid_json" });
      }
      const token = typeof body.token === "string" ? body.token : undefined;
      params = flatten({ ...body, token: undefined });
      if (!token) return respond({ ok: false, error: "not_authed" });
      const found = tokenOwner(token);
      if (!found) return respond({ ok: false, error: "invalid_auth" });
      auth = { kind: found.kind, appId: found.app.id };
      if (faults.isRevoked(token)) return respond({ ok: false, error: "token_revoked" });
      if (url.pathname.split("/")[2] !== ws.team.id) return respond({ ok: false, error: "team_not_found" });
      const query = String(body.query ?? "").toLowerCase();
      const count = Math.max(1, Math.min(Number(body.count) || 24, 100));
      const active = String(body.filter ?? "").includes("NOT deactivated");
      const results = [...ws.users.values()].filter(
        (u) =>
          !(active && u.deleted) &&
          [u.name, u.realName, u.displayName, body.search_email ? u.email : undefined].some((f) =>
            f?.toLowerCase().includes(query),
          ),
      );
      return respond({ ok: true, results: results.slice(0, count).map((u) => renderUser(ws, u)) });
    },
  );

  return [apiHandler, uploadHandler, downloadHandler, imageHandler, edgeUserSearch];
}

export const RECEIVED_AT_HEADER = "x-harness-received-at";

/** The transport's arrival stamp when it gave one (it sees the headers first), else now(). */
function arrivalOf(request: Request): number {
  const stamped = Number(request.headers.get(RECEIVED_AT_HEADER));
  const t = now();
  return Number.isFinite(stamped) && stamped > 0 && stamped <= t ? stamped : t;
}

function pathOf(url: string): string {
  // Cheaper than new URL() on the hot path: skip "scheme://host".
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  const q = url.indexOf("?", start);
  return q < 0 ? url.slice(start) : url.slice(start, q);
}

const LOGIN_PAGE = (team: string): string =>
  `<!DOCTYPE html>\n<html lang="en-US"><head><meta charset="utf-8"><title>Slack</title></head><body><h1>Sign in to ${team.replace(/[<>&"]/g, "")}</h1><form action="/signin" method="post"><input type="email" name="email"></form></body></html>\n`;
