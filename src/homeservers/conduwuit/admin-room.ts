// The admin room of the conduwuit family (#admins:<server>): commands are messages starting with
// `!admin`, answered by the server user with a reply to the command. This is how operators of these
// servers register appservices and grant admin rights, so the harness does it the same way.
//
// Answers are read with /messages rather than /sync: continuwuity v0.5.0-rc4's /sync can hold back
// an event written while the next long-poll is being set up (see docs/homeservers.md), and a
// server reply comes milliseconds after the command that woke the previous sync.
import { waitUntil } from "../../util/clock.ts";
import { fetchWithTimeout } from "../../util/net.ts";
import { redact } from "../../util/redact.ts";
import type { RegisteredUser } from "../api.ts";
import { serverUserId } from "./flavours.ts";

interface RoomEvent {
  event_id: string;
  sender: string;
  type: string;
  content: { body?: string; "m.relates_to"?: { "m.in_reply_to"?: { event_id?: string } } };
}

let txn = 0;

export class AdminRoom {
  private readonly baseUrl: string;
  private readonly admin: RegisteredUser;
  readonly roomId: string;
  private readonly botId: string;

  private constructor(baseUrl: string, admin: RegisteredUser, roomId: string, serverName: string) {
    this.baseUrl = baseUrl;
    this.admin = admin;
    this.roomId = roomId;
    this.botId = serverUserId(serverName);
  }

  /** Finds the admin room of `admin` (the server's first user, who joined it on registration). */
  static async open(baseUrl: string, serverName: string, admin: RegisteredUser): Promise<AdminRoom> {
    const alias = encodeURIComponent(`#admins:${serverName}`);
    const res = await fetchWithTimeout(`${baseUrl}/_matrix/client/v3/directory/room/${alias}`);
    const body = (await res.json().catch(() => ({}))) as { room_id?: string; error?: string };
    if (!res.ok || !body.room_id)
      throw new Error(
        `No admin room #admins:${serverName} (HTTP ${res.status} ${body.error ?? ""}); the first registered user should have joined it`,
      );
    return new AdminRoom(baseUrl, admin, body.room_id, serverName);
  }

  private async api(method: string, path: string, body?: unknown): Promise<any> {
    const res = await fetchWithTimeout(`${this.baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.admin.accessToken}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(redact(`${method} ${path}: HTTP ${res.status} ${JSON.stringify(json)}`));
    return json;
  }

  /**
   * Sends `!admin <command>` (with `body` as further lines, e.g. a code block) and resolves with the
   * server's answer to it; throws when the answer does not match `expect`.
   */
  async command(
    command: string,
    opts: { body?: string; expect?: RegExp; timeoutMs?: number } = {},
  ): Promise<string> {
    const room = encodeURIComponent(this.roomId);
    const text = opts.body ? `!admin ${command}\n${opts.body}` : `!admin ${command}`;
    const sent = await this.api("PUT", `/_matrix/client/v3/rooms/${room}/send/m.room.message/admin${++txn}`, {
      msgtype: "m.text",
      body: text,
    });
    const commandId = String(sent.event_id);
    const answer = await waitUntil(
      async () => {
        const page = await this.api("GET", `/_matrix/client/v3/rooms/${room}/messages?dir=b&limit=20`);
        return answerTo(page.chunk as RoomEvent[], commandId, this.botId);
      },
      {
        timeoutMs: opts.timeoutMs ?? 15_000,
        intervalMs: 100,
        describe: () => `the server's answer to "!admin ${command}" in the admin room`,
      },
    );
    if (opts.expect && !opts.expect.test(answer))
      throw new Error(`"!admin ${command}" was answered with: ${answer.slice(0, 500)}`);
    return answer;
  }
}

/**
 * The server's answer to the command `commandId` among the newest events (newest first): its reply
 * to that event, or else the first message of the server user written after it.
 */
export function answerTo(newestFirst: RoomEvent[], commandId: string, botId: string): string | undefined {
  const fromBot = (e: RoomEvent) => e.sender === botId && e.type === "m.room.message";
  const reply = newestFirst.find(
    (e) => fromBot(e) && e.content["m.relates_to"]?.["m.in_reply_to"]?.event_id === commandId,
  );
  if (reply) return String(reply.content.body ?? "");
  const at = newestFirst.findIndex((e) => e.event_id === commandId);
  if (at <= 0) return undefined;
  const after = newestFirst
    .slice(0, at)
    .reverse()
    .find((e) => fromBot(e) && !e.content["m.relates_to"]);
  return after ? String(after.content.body ?? "") : undefined;
}

/** The registration YAML as the admin command takes it: in a fenced code block after the command line. */
export function registrationCodeBlock(yaml: string): string {
  return `\`\`\`yaml\n${yaml.replace(/\n+$/, "")}\n\`\`\``;
}
