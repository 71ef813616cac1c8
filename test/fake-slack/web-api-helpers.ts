// Shared by the fake Slack core tests: a core with a recording Socket Mode port, served in-process by msw.
import { WebClient } from "@slack/web-api";
import { setupServer } from "msw/node";
import { createSlackCore } from "../../fakes/slack/core/index.ts";
import type { SlackCore, SocketModePort } from "../../fakes/slack/internal.ts";

export interface Published {
  appId: string;
  event: Record<string, unknown>;
}

export function makeCore(seed?: unknown): {
  core: SlackCore;
  published: Published[];
  port: SocketModePort;
  logs: string[];
} {
  const published: Published[] = [];
  const logs: string[] = [];
  let n = 0;
  const port: SocketModePort = {
    issueUrl: (appId, requestUrl) =>
      requestUrl.hostname === "slack.com"
        ? `wss://wss-primary.slack.com/link/?ticket=t${++n}&app_id=${appId}`
        : `ws://${requestUrl.host}/link/?ticket=t${++n}`,
    publish: (appId, event) => {
      published.push({ appId, event });
      return `Ev${n++}`;
    },
  };
  const core = createSlackCore({ seed, socketMode: port, log: (l) => logs.push(l) });
  return { core, published, port, logs };
}

export function startMsw(core: SlackCore) {
  const server = setupServer(...core.handlers);
  server.listen({ onUnhandledFrame: "error" });
  return server;
}

export function botClient(core: SlackCore, token = core.workspace.apps[0]?.botToken): WebClient {
  return new WebClient(token, { retryConfig: { retries: 0 } });
}
