// Data checks across a swap: the portal room of a channel, the Matrix messages in it, and "nothing
// arrived twice" in either direction.
import type { MatrixUser, StartedEnvironment } from "../environment/api.ts";
import { fetchWithTimeout } from "../util/net.ts";
import { BRIDGE_DATABASE } from "./operations.ts";

/** Matrix room ID of the portal for a Slack channel ID (portal ID "<TEAM>-<CHANNEL>"). */
export async function portalRoomId(env: StartedEnvironment, channelId: string): Promise<string | undefined> {
  const rows = await env.postgres.query<{ mxid: string }>(
    BRIDGE_DATABASE,
    "SELECT mxid FROM portal WHERE id = $1 AND mxid IS NOT NULL",
    [`${env.fakeSlack.workspace.teamId}-${channelId}`],
  );
  return rows[0]?.mxid;
}

export interface RoomMessage {
  eventId: string;
  sender: string;
  body: string;
  /** The event is an edit (m.replace) of another one. */
  isEdit: boolean;
  redacted: boolean;
}

/** All m.room.message events of a room, oldest first, read with the user's token through /messages. */
export async function roomMessages(
  env: StartedEnvironment,
  user: MatrixUser,
  roomId: string,
): Promise<RoomMessage[]> {
  const out: RoomMessage[] = [];
  let from: string | undefined;
  const filter = encodeURIComponent(JSON.stringify({ types: ["m.room.message"] }));
  for (let page = 0; page < 100; page++) {
    const url =
      `${env.homeserver.baseUrl}/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/messages` +
      `?dir=b&limit=500&filter=${filter}${from ? `&from=${encodeURIComponent(from)}` : ""}`;
    const res = await fetchWithTimeout(url, { headers: { authorization: `Bearer ${user.accessToken}` } });
    if (!res.ok) throw new Error(`GET /rooms/${roomId}/messages: HTTP ${res.status}`);
    const body = (await res.json()) as { chunk: any[]; end?: string };
    for (const e of body.chunk) {
      const c = e.content ?? {};
      out.push({
        eventId: e.event_id,
        sender: e.sender,
        body: typeof c.body === "string" ? c.body : "",
        isEdit: c["m.relates_to"]?.rel_type === "m.replace",
        redacted: !c.body && !!e.unsigned?.redacted_because,
      });
    }
    if (!body.end || body.chunk.length === 0) break;
    from = body.end;
  }
  return out.reverse();
}

export interface DuplicateReport {
  channel: string;
  roomId?: string;
  /** Slack messages (by Slack users) that appear on Matrix other than exactly once: text -> count. */
  slackToMatrix: Record<string, number>;
  /** Matrix messages bridged to Slack more than once: text -> count of Slack messages. */
  matrixToSlack: Record<string, number>;
  checkedSlackMessages: number;
  checkedMatrixMessages: number;
}

/**
 * Checks one channel: every (non-deleted, unedited) message a Slack user posted appears exactly
 * once in the portal, and no message from the bridge's bot appears twice in Slack.
 */
export async function checkNoDuplicates(
  env: StartedEnvironment,
  user: MatrixUser,
  channel: string,
): Promise<DuplicateReport> {
  const ws = env.fakeSlack.workspace;
  const channelId = ws.resolveChannel(channel);
  const botUsers = new Set(ws.apps.map((a) => a.botUserId));
  const botIds = new Set(ws.apps.map((a) => a.botId));
  const history = env.fakeSlack.control.history(channelId);
  const roomId = await portalRoomId(env, channelId);
  const report: DuplicateReport = {
    channel,
    roomId,
    slackToMatrix: {},
    matrixToSlack: {},
    checkedSlackMessages: 0,
    checkedMatrixMessages: 0,
  };
  if (!roomId) throw new Error(`no portal room for ${channel} (${channelId}) in the bridge database`);
  const matrix = await roomMessages(env, user, roomId);
  const originals = matrix.filter((m) => !m.isEdit && !m.redacted);
  const fromBridgeSide = (m: { user?: string; botId?: string }) =>
    (m.user !== undefined && botUsers.has(m.user)) || (m.botId !== undefined && botIds.has(m.botId));

  // Slack -> Matrix goes through the bridge's own mapping (Slack ts -> Matrix event), so text
  // formatting and messages left in a shared room by other scenarios cannot confuse the count.
  const mapped = await env.postgres.query<{ id: string; mxid: string }>(
    BRIDGE_DATABASE,
    "SELECT id, mxid FROM message WHERE room_id = $1 AND part_id = ''",
    [`${ws.teamId}-${channelId}`],
  );
  const mxidsBySlackId = new Map<string, string[]>();
  for (const row of mapped) mxidsBySlackId.set(row.id, [...(mxidsBySlackId.get(row.id) ?? []), row.mxid]);
  const inRoom = new Set(originals.map((m) => m.eventId));
  const mappedMxids = new Set(mapped.map((r) => r.mxid));
  const ghostEvents = originals.filter((m) => m.sender !== user.userId && m.sender !== env.bridge.botUserId);
  const unmappedGhostEvents = ghostEvents.filter((m) => !mappedMxids.has(m.eventId));
  const accounted = new Set<string>();
  const checkedTexts = new Set<string>();
  for (const msg of history) {
    if (msg.deleted || msg.edited || fromBridgeSide(msg) || !msg.text) continue;
    report.checkedSlackMessages++;
    checkedTexts.add(msg.text);
    let matches = (mxidsBySlackId.get(`${ws.teamId}-${channelId}-${msg.ts}`) ?? []).filter((id) =>
      inRoom.has(id),
    );
    // Restoring a database snapshot loses the mapping of messages bridged after it: match by text.
    if (matches.length === 0) {
      matches = unmappedGhostEvents
        .filter((m) => !accounted.has(m.eventId) && m.body === msg.text)
        .map((m) => m.eventId);
    }
    for (const id of matches) accounted.add(id);
    if (matches.length !== 1) report.slackToMatrix[msg.text] = matches.length;
  }
  // A second delivery of a Slack message is a ghost event that neither the mapping nor the text
  // fallback accounted for, carrying the text of a checked message.
  for (const m of unmappedGhostEvents) {
    if (accounted.has(m.eventId) || !checkedTexts.has(m.body)) continue;
    report.slackToMatrix[m.body] = (report.slackToMatrix[m.body] ?? 1) + 1;
  }
  const bridged = history.filter((m) => !m.deleted && fromBridgeSide(m));
  for (const m of originals.filter((o) => o.sender === user.userId)) {
    report.checkedMatrixMessages++;
    const n = bridged.filter((s) => s.text === m.body).length;
    if (n > 1) report.matrixToSlack[m.body] = n;
  }
  return report;
}
