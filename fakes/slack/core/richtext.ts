// Slack's two forms of a message and how they relate, both ways:
// - `text` is mrkdwn as Slack stores it: `&`, `<` and `>` are entities (&amp; &lt; &gt;), and `<...>`
//   holds mentions, links and dates (<@U…>, <#C…>, <!here>, <!subteam^S…>, <!date^…|…>, <url|label>);
// - rich_text `blocks` carry the raw characters and one element per mention, link, emoji or date.
// A Slack client turns what a person types into blocks (typedToBlocks) and Slack derives the `text`
// fallback from blocks (blocksToText); an API client that sends only `text` gets blocks derived from it
// (mrkdwnToBlocks).
import { opaque } from "./ids.ts";

type Json = Record<string, unknown>;

/** Escapes the three characters Slack stores as entities in `text`. */
export function escapeMrkdwn(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

export function unescapeMrkdwn(s: string): string {
  return s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

function richText(elements: Json[]): Json[] {
  return [{ type: "rich_text", block_id: opaque(5), elements }];
}

// ---- mrkdwn `text` -> blocks -------------------------------------------------------------------

const SPECIAL =
  /<(@[UW][A-Z0-9]+|#[CG][A-Z0-9]+|![a-z]+(?:\^[^|>]*)*|[a-z][a-z0-9+.-]*:[^>|]+)(?:\|([^>]*))?>/g;

/** The rich_text element for one `<...>` form of mrkdwn (label unescaped). */
function specialElement(target: string, label: string | undefined): Json {
  if (target.startsWith("@")) return { type: "user", user_id: target.slice(1) };
  if (target.startsWith("#")) return { type: "channel", channel_id: target.slice(1) };
  if (target.startsWith("!")) {
    const [kind = "", ...args] = target.slice(1).split("^");
    if (kind === "here" || kind === "channel" || kind === "everyone")
      return { type: "broadcast", range: kind };
    if (kind === "subteam" && args[0]) return { type: "usergroup", usergroup_id: args[0] };
    if (kind === "date" && args[0]) {
      const el: Json = { type: "date", timestamp: Number(args[0]), format: args[1] ?? "{date}" };
      if (args[2]) el.url = args[2];
      if (label !== undefined) el.fallback = unescapeMrkdwn(label);
      return el;
    }
    return { type: "text", text: label !== undefined ? unescapeMrkdwn(label) : `<${target}>` };
  }
  const url = unescapeMrkdwn(target);
  return label ? { type: "link", url, text: unescapeMrkdwn(label) } : { type: "link", url };
}

/** The rich_text block a Slack client shows for mrkdwn `text` (one section, entities decoded). */
export function mrkdwnToBlocks(text: string): unknown[] {
  const elements: Json[] = [];
  let last = 0;
  for (const m of text.matchAll(SPECIAL)) {
    if (m.index > last) elements.push(...styledText(unescapeMrkdwn(text.slice(last, m.index))));
    elements.push(specialElement(m[1] as string, m[2]));
    last = m.index + m[0].length;
  }
  if (last < text.length) elements.push(...styledText(unescapeMrkdwn(text.slice(last))));
  return richText([{ type: "rich_text_section", elements }]);
}

/** mrkdwn markers a Slack client turns into rich_text styles when a person types them. */
const STYLE_MARKERS: Record<string, string> = { "*": "bold", _: "italic", "`": "code", "~": "strike" };
const STYLED = /(^|[\s(])([*_`~])([^*_`~\n]+)\2(?=$|[\s.,;:!?)])/g;

/** Splits raw text into rich_text `text` elements, styling *bold*, _italic_, `code` and ~strike~. */
function styledText(text: string): Json[] {
  const out: Json[] = [];
  let last = 0;
  for (const m of text.matchAll(STYLED)) {
    const start = m.index + (m[1] as string).length;
    if (start > last) out.push({ type: "text", text: text.slice(last, start) });
    out.push({ type: "text", text: m[3], style: { [STYLE_MARKERS[m[2] as string] as string]: true } });
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push({ type: "text", text: text.slice(last) });
  return out;
}

// ---- what a person types -> blocks -------------------------------------------------------------

/** Names a typed message may mention: users, channels and user groups of the workspace. */
export interface MentionResolver {
  user(name: string): string | undefined;
  channel(name: string): string | undefined;
  usergroup(handle: string): string | undefined;
}

const TYPED_TOKEN =
  /(^|[\s(])(?:@(here|channel|everyone)\b|@([a-z0-9][a-z0-9._-]*[a-z0-9]|[a-z0-9])|#([a-z0-9][a-z0-9_-]*)|:([a-z0-9_+'-]+):|(https?:\/\/[^\s<>]+[^\s<>.,;:!?)]))/g;

/** One line of typed text: mentions, channels, emoji and URLs become elements, the rest styled text. */
function typedInline(line: string, r: MentionResolver): Json[] {
  const out: Json[] = [];
  let last = 0;
  for (const m of line.matchAll(TYPED_TOKEN)) {
    const start = m.index + (m[1] as string).length;
    const [, , broadcast, name, channel, emoji, url] = m;
    let el: Json | undefined;
    if (broadcast) el = { type: "broadcast", range: broadcast };
    else if (name) {
      const user = r.user(name);
      const group = user ? undefined : r.usergroup(name);
      if (user) el = { type: "user", user_id: user };
      else if (group) el = { type: "usergroup", usergroup_id: group };
    } else if (channel) {
      const id = r.channel(channel);
      if (id) el = { type: "channel", channel_id: id };
    } else if (emoji) el = { type: "emoji", name: emoji };
    else if (url) el = { type: "link", url };
    if (!el) continue;
    if (start > last) out.push(...styledText(line.slice(last, start)));
    out.push(el);
    last = m.index + m[0].length;
  }
  if (last < line.length) out.push(...styledText(line.slice(last)));
  return out;
}

/** Joins the inline elements of several lines with "\n" text, as one section/quote. */
function joinLines(lines: string[], r: MentionResolver): Json[] {
  const out: Json[] = [];
  lines.forEach((line, i) => {
    if (i > 0) out.push({ type: "text", text: "\n" });
    out.push(...typedInline(line, r));
  });
  return mergeText(out);
}

/** Adjacent unstyled text elements become one, as Slack's clients send them. */
function mergeText(elements: Json[]): Json[] {
  const out: Json[] = [];
  for (const e of elements) {
    const prev = out[out.length - 1];
    if (prev && e.type === "text" && prev.type === "text" && !e.style && !prev.style)
      prev.text = `${prev.text}${e.text}`;
    else out.push({ ...e });
  }
  return out;
}

const LIST_ITEM = /^( *)([-*•]|(\d+)\.) +(.*)$/;

/**
 * The rich_text a Slack client sends for what a person types: ``` fences (```lang on its own line
 * sets the language) become preformatted, "> " lines quotes, "- "/"* "/"• " and "1. " lines lists
 * (two spaces of indentation per level; an ordered list's first number sets its offset), the rest
 * sections; inline, @name mentions a user or user group, @here/@channel/@everyone broadcast, #name
 * a channel, :name: an emoji, URLs become links and *bold* _italic_ ~strike~ `code` styles.
 */
export function typedToBlocks(typed: string, r: MentionResolver): unknown[] {
  const lines = typed.split("\n");
  const elements: Json[] = [];
  let para: string[] = [];
  const flushPara = () => {
    if (para.length) elements.push({ type: "rich_text_section", elements: joinLines(para, r) });
    para = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.startsWith("```")) {
      flushPara();
      const rest = line.slice(3);
      const oneLine = /^(.*)```$/.exec(rest);
      let code: string;
      let language: string | undefined;
      if (oneLine && rest.length >= 3) code = oneLine[1] as string;
      else {
        const body: string[] = [];
        if (/^[A-Za-z0-9_+-]+$/.test(rest)) language = rest;
        else if (rest) body.push(rest);
        for (i++; i < lines.length; i++) {
          const l = lines[i] as string;
          if (l.endsWith("```")) {
            if (l.length > 3) body.push(l.slice(0, -3));
            break;
          }
          body.push(l);
        }
        code = body.join("\n");
      }
      const pre: Json = {
        type: "rich_text_preformatted",
        elements: [{ type: "text", text: code }],
        border: 0,
      };
      if (language) pre.language = language;
      elements.push(pre);
      continue;
    }
    if (line.startsWith(">")) {
      flushPara();
      const quoted: string[] = [];
      for (; i < lines.length && (lines[i] as string).startsWith(">"); i++)
        quoted.push((lines[i] as string).replace(/^> ?/, ""));
      i--;
      elements.push({ type: "rich_text_quote", elements: joinLines(quoted, r) });
      continue;
    }
    const item = LIST_ITEM.exec(line);
    if (item) {
      flushPara();
      const indent = Math.floor((item[1] as string).length / 2);
      const style = item[3] ? "ordered" : "bullet";
      const prev = elements[elements.length - 1];
      const section = { type: "rich_text_section", elements: mergeText(typedInline(item[4] as string, r)) };
      if (prev?.type === "rich_text_list" && prev.style === style && prev.indent === indent)
        (prev.elements as Json[]).push(section);
      else {
        const list: Json = { type: "rich_text_list", style, indent, border: 0, elements: [section] };
        const first = Number(item[3] ?? 1);
        if (first > 1) list.offset = first - 1;
        elements.push(list);
      }
      continue;
    }
    para.push(line);
  }
  flushPara();
  return richText(elements);
}

// ---- blocks -> the `text` fallback ---------------------------------------------------------------

/** The `text` Slack derives from blocks: mrkdwn, entities escaped, mentions in their `<...>` forms. */
export function blocksToText(blocks: unknown[]): string {
  const parts: string[] = [];
  for (const b of blocks) {
    if (!b || typeof b !== "object") continue;
    const block = b as Json;
    if (block.type === "rich_text" && Array.isArray(block.elements))
      parts.push(block.elements.map((e) => richTextElementText(e as Json)).join(""));
    else if (
      (block.type === "section" || block.type === "header") &&
      block.text &&
      typeof block.text === "object"
    )
      parts.push(String((block.text as Json).text ?? ""));
  }
  return parts.join("\n").replace(/\n$/, "");
}

function richTextElementText(e: Json): string {
  const inner = Array.isArray(e.elements) ? (e.elements as Json[]) : [];
  switch (e.type) {
    case "rich_text_section":
      return inner.map(inlineText).join("");
    case "rich_text_quote":
      return `${inner
        .map(inlineText)
        .join("")
        .split("\n")
        .map((l) => `&gt; ${l}`)
        .join("\n")}\n`;
    case "rich_text_preformatted":
      return `\`\`\`${inner.map(inlineText).join("")}\`\`\`\n`;
    case "rich_text_list": {
      const pad = "    ".repeat(Number(e.indent ?? 0));
      const offset = Number(e.offset ?? 0);
      return inner
        .map((item, i) => {
          const bullet = e.style === "ordered" ? `${offset + i + 1}.` : "•";
          const text = Array.isArray(item.elements) ? (item.elements as Json[]).map(inlineText).join("") : "";
          return `${pad}${bullet} ${text}\n`;
        })
        .join("");
    }
    default:
      return "";
  }
}

function inlineText(e: Json): string {
  switch (e.type) {
    case "text": {
      // Slack's fallback text keeps the mrkdwn markers of styled runs.
      const style = (e.style ?? {}) as Record<string, boolean>;
      const markers = Object.entries(STYLE_MARKERS)
        .filter(([, name]) => style[name])
        .map(([marker]) => marker)
        .join("");
      return `${markers}${escapeMrkdwn(String(e.text ?? ""))}${[...markers].reverse().join("")}`;
    }
    case "user":
      return `<@${String(e.user_id)}>`;
    case "channel":
      return `<#${String(e.channel_id)}>`;
    case "usergroup":
      return `<!subteam^${String(e.usergroup_id)}>`;
    case "broadcast":
      return `<!${String(e.range)}>`;
    case "link":
      return e.text
        ? `<${escapeMrkdwn(String(e.url))}|${escapeMrkdwn(String(e.text))}>`
        : `<${escapeMrkdwn(String(e.url))}>`;
    case "emoji":
      return `:${String(e.name)}:`;
    case "date": {
      const fallback = e.fallback ?? new Date(Number(e.timestamp) * 1000).toUTCString();
      return `<!date^${Number(e.timestamp)}^${String(e.format ?? "{date}")}${e.url ? `^${String(e.url)}` : ""}|${escapeMrkdwn(String(fallback))}>`;
    }
    case "message_mention":
      return e.url ? `<${escapeMrkdwn(String(e.url))}>` : "";
    case "color":
      return String(e.value ?? "");
    default:
      return "";
  }
}

/** invalid_blocks unless every block is an object with a string type. */
export function validBlocks(value: unknown): value is unknown[] {
  return (
    Array.isArray(value) &&
    value.length <= 50 &&
    value.every((b) => b && typeof b === "object" && typeof (b as Json).type === "string")
  );
}
