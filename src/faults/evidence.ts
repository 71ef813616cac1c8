// Evidence for a lost or duplicated message: what the fake Slack saw of it (envelope deliveries and
// acks, Web API calls) and the bridge's log lines that name it or complain around it.
import type { StartedEnvironment } from "../environment/api.ts";
import { lineLevel } from "../scenario/content.ts";
import type { ScenarioState } from "../scenario/state.ts";

const MAX_LINES = 8;

/** When a log line was written (its leading ISO timestamp), or NaN. */
export function lineTime(line: string): number {
  return Date.parse(line.slice(0, line.indexOf(" ")));
}

/** Bridge log lines at warn level or above written from `fromAt` on. */
export async function bridgeWarnings(env: StartedEnvironment, fromAt: number): Promise<string[]> {
  const lines = await env.bridge.logLines();
  return lines
    .filter((l) => {
      const level = lineLevel(l);
      return lineTime(l) >= fromAt && (level === "warn" || level === "error" || level === "fatal");
    })
    .slice(0, MAX_LINES);
}

async function bridgeLinesNaming(env: StartedEnvironment, needle: string): Promise<string[]> {
  return (await env.bridge.logLines()).filter((l) => l.includes(needle)).slice(0, MAX_LINES);
}

/** A Slack message that did not reach Matrix: its envelope attempts, acks, and the bridge's lines about it. */
export async function slackMessageEvidence(state: ScenarioState, ts: string): Promise<string[]> {
  const attempts = state.control
    .envelopes()
    .filter((e) => e.eventType === "message" && !e.subtype && e.event.ts === ts);
  const out = attempts.length
    ? attempts.map(
        (e) =>
          `envelope ${e.envelopeId} (attempt ${e.retryAttempt}) written at ${iso(e.sentAt)} on ${e.connectionId}, ${e.ackedAt ? `acked by the bridge at ${iso(e.ackedAt)}` : "never acked"}`,
      )
    : ["no envelope was written to the bridge"];
  return [...out, ...(await bridgeLinesNaming(state.env, ts))];
}

/** A Matrix message that did not reach Slack: the bridge's lines about its event. */
export async function matrixMessageEvidence(state: ScenarioState, eventId: string): Promise<string[]> {
  const lines = await bridgeLinesNaming(state.env, eventId);
  return lines.length ? lines : [`the bridge log never names ${eventId}`];
}

function iso(t: number): string {
  return new Date(t).toISOString();
}
