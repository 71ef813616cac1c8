import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { botClient, makeCore, startMsw } from "./web-api-helpers.ts";

const { core, published } = makeCore();
let server: ReturnType<typeof startMsw>;
beforeAll(() => {
  server = startMsw(core);
});
afterAll(() => server.close());

describe("smoke", () => {
  it("auth.test and post", async () => {
    const web = botClient(core);
    const auth = await web.auth.test();
    expect(auth.ok).toBe(true);
    expect(auth.bot_id).toBe(core.workspace.apps[0]?.botId);
    const ch = core.workspace.resolveChannel("dev-platform");
    const res = await web.chat.postMessage({
      channel: ch,
      blocks: [
        {
          type: "rich_text",
          elements: [{ type: "rich_text_section", elements: [{ type: "text", text: "hi" }] }],
        },
      ],
    });
    expect(res.ok).toBe(true);
    expect(published.at(-1)?.event.text).toBe("hi");
  });
});
