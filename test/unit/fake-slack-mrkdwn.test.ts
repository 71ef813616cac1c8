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

describe("the plain text the default slack.post / matrix.send checks compare", () => {
  it("decodes entities and drops markup; mentions match whatever the bridge renders", async () => {
    const { plainFromBlocks, plainFromHtml, plainMatches } = await import("../../src/scenario/content.ts");
    const { typedToBlocks } = await import("../../fakes/slack/core/richtext.ts");
    const blocks = typedToBlocks("a < b & *c* for @bob\n- one\n- two", {
      user: (n) => (n === "bob" ? "U0BOB00001" : undefined),
      channel: () => undefined,
      usergroup: () => undefined,
    });
    const pattern = plainFromBlocks(blocks, "pattern");
    const html =
      'a &lt; b &amp; <strong>c</strong> for <a href="https://matrix.to/#/@slack_t-u0bob00001:hs">Bob</a><ul><li>one</li><li>two</li></ul>';
    expect(plainMatches(pattern, plainFromHtml(html)).ok).toBe(true);
    // What main rendered for a typed "&lt;": the entity itself on Matrix.
    expect(
      plainMatches(
        plainFromBlocks(blocks, "pattern"),
        plainFromHtml("a &amp;lt; b &amp;amp; c for Bob one two"),
      ).ok,
    ).toBe(false);
    expect(
      plainMatches(
        "if a < b",
        plainFromBlocks(
          [
            {
              type: "rich_text",
              elements: [{ type: "rich_text_section", elements: [{ type: "text", text: "if a < b" }] }],
            },
          ],
          "text",
        ),
      ).ok,
    ).toBe(true);
  });
});
