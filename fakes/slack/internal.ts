// The seam between the two halves of the fake Slack:
//  - the core (fakes/slack/core, fakes/slack/web-api): workspace state, seed, Web API handlers (msw),
//    file upload/download, call recording, user actions and HTTP-level faults;
//  - the transport (fakes/slack/transport, fakes/slack/socket-mode): per-run CA, CONNECT proxy, the
//    HTTP(S)/WebSocket server, the Socket Mode hub (hello, pings, envelopes, acks, redelivery,
//    disconnects) and startFakeSlack() which composes both.
import type { HttpHandler } from "msw";
import type { EnvelopeRecord, SlackControl, SocketConnectionRecord, WorkspaceInfo } from "./api.ts";

/** What the core needs from the transport. */
export interface SocketModePort {
  /**
   * Issues a single-use Socket Mode URL for an app. `requestUrl` is the URL the apps.connections.open
   * request arrived on: when it came through the TLS-terminating proxy (https://slack.com/...) the URL
   * is wss://wss-primary.slack.com/link/?ticket=...&app_id=..., when it came to the plain port
   * (http://127.0.0.1:PORT/api/...) it is ws://127.0.0.1:PORT/link/?ticket=...
   */
  issueUrl(appId: string, requestUrl: URL): string;
  /**
   * Queues an Events API event for the app (the inner `event` object; the hub wraps it in the
   * event_callback payload and the envelope). Returns the event_id.
   */
  publish(appId: string, event: Record<string, unknown>): string;
}

/** What the core gives the transport. */
export interface SlackCore {
  /** msw handlers for https://slack.com/api/*, the upload URL and file downloads (files.slack.com). */
  handlers: HttpHandler[];
  workspace: WorkspaceInfo;
  /** Control methods the core implements: acting as users, calls, history, HTTP faults. */
  control: Pick<
    SlackControl,
    | "postMessage"
    | "editMessage"
    | "deleteMessage"
    | "addReaction"
    | "removeReaction"
    | "uploadFile"
    | "createChannel"
    | "renameChannel"
    | "setTopic"
    | "setPurpose"
    | "archiveChannel"
    | "unarchiveChannel"
    | "joinChannel"
    | "leaveChannel"
    | "inviteToChannel"
    | "kickFromChannel"
    | "openConversation"
    | "updateProfile"
    | "deactivateUser"
    | "changeEmoji"
    | "image"
    | "unfurl"
    | "calls"
    | "waitForCall"
    | "history"
    | "rateLimit"
    | "delayResponses"
    | "revokeToken"
    | "outage"
    | "replaceToken"
  >;
  /** Reset HTTP faults. */
  clearFaults(): void;
  /** The transport handed this answer (from `handlers`) to the socket: the call's respondedAt. */
  responseWritten?(answer: Response): void;
  /** Looks up an app by its xapp token (for the WebSocket upgrade, which carries only the ticket). */
  appIdForTicketOwner?(appId: string): boolean;
}

export interface SlackCoreOptions {
  seed?: unknown;
  socketMode: SocketModePort;
  log?: (line: string) => void;
}

/** What the hub exposes to startFakeSlack() to complete SlackControl. */
export interface SocketModeHubControl {
  envelopes(): EnvelopeRecord[];
  connections(): SocketConnectionRecord[];
}
