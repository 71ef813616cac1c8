import { describe, expect, it } from "vitest";
import { blocksToText, mrkdwnToBlocks as textToBlocks } from "../../fakes/slack/core/richtext.ts";

const section = (text: string) => (textToBlocks(text)[0] as any).elements[0].elements;

describe("text typed in a Slack client becomes styled rich_text", () => {
  it("styles *bold*, _italic_, `code` and ~strike~ and keeps links as link elements", () => {
    expect(section("*b* _i_ `c` ~s~ <https://example.org|x>")).toEqual([
      { type: "text", text: "b", style: { bold: true } },
      { type: "text", text: " " },
      { type: "text", text: "i", style: { italic: true } },
      { type: "text", text: " " },
      { type: "text", text: "c", style: { code: true } },
      { type: "text", text: " " },
      { type: "text", text: "s", style: { strike: true } },
      { type: "text", text: " " },
      { type: "link", url: "https://example.org", text: "x" },
    ]);
  });

  it("leaves markers inside words alone", () => {
    expect(section("snake_case_name and 2*3*4")).toEqual([
      { type: "text", text: "snake_case_name and 2*3*4" },
    ]);
  });

  it("derives the same mrkdwn fallback text back from the blocks", () => {
    const text = "*bold*, _italic_ and `code`.";
    expect(blocksToText(textToBlocks(text))).toBe(text);
  });
});
