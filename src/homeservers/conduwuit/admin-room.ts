// The admin room of the conduwuit family (#admins:<server>): commands are messages starting with
// `!admin`, answered by the server user. This is how operators of these servers register
// appservices and grant admin rights, so the harness does it the same way.
import { createMatrixUser, type MatrixDriverUser } from "../../matrix/driver.ts";
import type { RegisteredUser } from "../api.ts";
import { serverUserId } from "./flavours.ts";

export class AdminRoom {
  private readonly client: MatrixDriverUser;
  readonly roomId: string;
  private readonly botId: string;

  private constructor(client: MatrixDriverUser, roomId: string, serverName: string) {
    this.client = client;
    this.roomId = roomId;
    this.botId = serverUserId(serverName);
  }

  /** Opens the admin room as `admin` (the server's first user, who joined it on registration). */
  static async open(baseUrl: string, serverName: string, admin: RegisteredUser): Promise<AdminRoom> {
    const client = await createMatrixUser(baseUrl, {
      userId: admin.userId,
      accessToken: admin.accessToken,
      deviceId: admin.deviceId,
      autoJoin: false,
    });
    try {
      const alias = encodeURIComponent(`#admins:${serverName}`);
      const { room_id } = (await client.api("GET", `/_matrix/client/v3/directory/room/${alias}`)) as {
        room_id: string;
      };
      return new AdminRoom(client, room_id, serverName);
    } catch (err) {
      client.stop();
      throw new Error(
        `No admin room #admins:${serverName} (${(err as Error).message}); the first registered user should have joined it`,
      );
    }
  }

  /**
   * Sends `!admin <command>` (with `body` as further lines, e.g. a code block) and resolves with the
   * server user's first answer after it; throws when the answer does not match `expect`.
   */
  async command(command: string, opts: { body?: string; expect?: RegExp; timeoutMs?: number } = {}) {
    const text = opts.body ? `!admin ${command}\n${opts.body}` : `!admin ${command}`;
    const mark = this.client.mark();
    await this.client.sendText(this.roomId, text);
    const reply = await this.client.waitForEvent(
      (e) => e.roomId === this.roomId && e.sender === this.botId && e.type === "m.room.message",
      {
        since: mark,
        timeoutMs: opts.timeoutMs ?? 15_000,
        describe: `the server's answer to "!admin ${command}" in the admin room`,
      },
    );
    const answer = String(reply.content.body ?? "");
    if (opts.expect && !opts.expect.test(answer))
      throw new Error(`"!admin ${command}" was answered with: ${answer.slice(0, 500)}`);
    return answer;
  }

  /** Wakes the sync loop after the server restarted. */
  reconnect(): Promise<void> {
    return this.client.reconnect();
  }

  close(): void {
    this.client.stop();
  }
}

/** The registration YAML as the admin command takes it: in a fenced code block after the command line. */
export function registrationCodeBlock(yaml: string): string {
  return `\`\`\`yaml\n${yaml.replace(/\n+$/, "")}\n\`\`\``;
}
