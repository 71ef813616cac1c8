// Pure helpers the steps use: emoji names, rich-text flattening, log levels, generated files, counts.
import { createHash } from "node:crypto";
import type { CountSpec } from "../config/fields.ts";

/**
 * Slack's canonical shortcode -> the Unicode emoji mautrix-slack puts in m.reaction keys (a few common
 * ones). Slack sends canonical names in reaction events ("+1", never the alias "thumbsup").
 */
export const EMOJI: Record<string, string> = {
  "+1": "👍",
  "-1": "👎",
  heart: "❤️",
  tada: "🎉",
  eyes: "👀",
  rocket: "🚀",
  white_check_mark: "✅",
  joy: "😂",
  smile: "😄",
  fire: "🔥",
  pray: "🙏",
  wave: "👋",
};

/** Unicode emoji -> the shortcode mautrix-slack sends in reactions.add. */
const SHORTCODE: Record<string, string> = {
  "👍": "+1",
  "👎": "-1",
  "❤️": "heart",
  "❤": "heart",
  "🎉": "tada",
  "👀": "eyes",
  "🚀": "rocket",
  "✅": "white_check_mark",
  "😂": "joy",
  "😄": "smile",
  "🔥": "fire",
  "🙏": "pray",
  "👋": "wave",
};

const stripVariation = (s: string) => s.replace(/\uFE0F/g, "");

/** The Matrix reaction key for a Slack shortcode (undefined when unknown: any key is accepted). */
export function unicodeForShortcode(name: string): string | undefined {
  return EMOJI[name.replace(/:/g, "")];
}

/** Aliases a scenario may use when a Matrix user reacts. */
const ALIASES: Record<string, string> = { thumbsup: "👍", thumbsdown: "👎" };

/** The Matrix reaction key to send for `emoji` (a Unicode emoji or a known shortcode). */
export function reactionKey(emoji: string): string {
  return unicodeForShortcode(emoji) ?? ALIASES[emoji.replace(/:/g, "")] ?? emoji;
}

/** Shortcodes Slack may use for `emoji` (Slack knows several names for some, e.g. +1 and thumbsup). */
export function slackNamesFor(emoji: string): string[] | undefined {
  const key = stripVariation(reactionKey(emoji));
  const names = Object.entries({ ...EMOJI, ...ALIASES })
    .filter(([, u]) => stripVariation(u) === key)
    .map(([n]) => n);
  const primary = SHORTCODE[key] ?? SHORTCODE[`${key}\uFE0F`];
  if (primary && !names.includes(primary)) names.unshift(primary);
  return names.length ? names : undefined;
}

export function sameEmoji(a: string, b: string): boolean {
  return stripVariation(a) === stripVariation(b);
}

/** Flattened view of a chat.postMessage/chat.update call: text, styles, links, mentioned user IDs. */
export interface SlackRichText {
  text: string;
  styles: Set<string>;
  links: string[];
  mentions: string[];
}

/** Slack's `text` entities decoded (&lt; &gt; &amp;). */
export function unescapeMrkdwn(s: string): string {
  return s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

export function parseJsonSafe(text: string | undefined): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

export function flattenSlackMessage(params: Record<string, string>): SlackRichText {
  const out: SlackRichText = { text: "", styles: new Set(), links: [], mentions: [] };
  let blocks: unknown;
  try {
    blocks = params.blocks ? JSON.parse(params.blocks) : undefined;
  } catch {
    blocks = undefined;
  }
  if (!Array.isArray(blocks)) {
    out.text = params.text ?? "";
    for (const m of out.text.matchAll(/<@([A-Z0-9]+)>/g)) out.mentions.push(m[1]);
    for (const m of out.text.matchAll(/<(https?:[^|>]+)(?:\|[^>]*)?>/g)) out.links.push(m[1]);
    return out;
  }
  const walk = (el: any) => {
    if (!el || typeof el !== "object") return;
    if (Array.isArray(el)) return el.forEach(walk);
    if (el.style && typeof el.style === "object")
      for (const [k, v] of Object.entries(el.style)) if (v) out.styles.add(k);
    switch (el.type) {
      case "text":
        out.text += el.text ?? "";
        break;
      case "link":
        out.links.push(el.url);
        out.text += el.text ?? el.url ?? "";
        break;
      case "user":
        out.mentions.push(el.user_id);
        out.text += `@${el.user_id}`;
        break;
      case "emoji":
        out.text += el.unicode
          ? String.fromCodePoint(
              ...String(el.unicode)
                .split("-")
                .map((h: string) => Number.parseInt(h, 16)),
            )
          : `:${el.name}:`;
        break;
    }
    if (el.type === "rich_text_preformatted") out.styles.add("code");
    if (Array.isArray(el.elements)) el.elements.forEach(walk);
  };
  walk(blocks);
  return out;
}

export const LEVELS = ["trace", "debug", "info", "warn", "error", "fatal"] as const;
export type Level = (typeof LEVELS)[number];

const ANSI = /\u001b\[[0-9;]*m/g;
const LEVEL_WORDS: [RegExp, Level][] = [
  [/"level":"(trace)"/i, "trace"],
  [/"level":"(debug)"/i, "debug"],
  [/"level":"(info)"/i, "info"],
  [/"level":"(warn|warning)"/i, "warn"],
  [/"level":"(error)"/i, "error"],
  [/"level":"(fatal|panic)"/i, "fatal"],
  // zerolog console format (mautrix): "2026-11-22T03:41:06Z INF Starting bridge"
  [/^\S+\s+TRC\b/, "trace"],
  [/^\S+\s+DBG\b/, "debug"],
  [/^\S+\s+INF\b/, "info"],
  [/^\S+\s+WRN\b/, "warn"],
  [/^\S+\s+ERR\b/, "error"],
  [/^\S+\s+(FTL|PNC)\b/, "fatal"],
  // Synapse: "2026-... - synapse.app - 42 - WARNING - main - ..."
  [/ - (DEBUG) - /, "debug"],
  [/ - (INFO) - /, "info"],
  [/ - (WARNING) - /, "warn"],
  [/ - (ERROR) - /, "error"],
  [/ - (CRITICAL) - /, "fatal"],
  // PostgreSQL: "... LOG:  database system is ready"
  [/\b(LOG|DETAIL|HINT|STATEMENT):\s/, "info"],
  [/\bWARNING:\s/, "warn"],
  [/\bERROR:\s/, "error"],
  [/\b(FATAL|PANIC):\s/, "fatal"],
];

/** The level of one log line (undefined when the line has none, e.g. a continuation). */
export function lineLevel(line: string): Level | undefined {
  const plain = line.replace(ANSI, "");
  for (const [re, level] of LEVEL_WORDS) if (re.test(plain)) return level;
  return undefined;
}

export function levelAbove(level: Level, max: Level): boolean {
  return LEVELS.indexOf(level) > LEVELS.indexOf(max);
}

/** "/regex/flags" is a regular expression, anything else a substring. */
export function lineMatcher(pattern: string): (line: string) => boolean {
  const m = /^\/(.+)\/([a-z]*)$/.exec(pattern);
  if (m) {
    const re = new RegExp(m[1], m[2]);
    return (line) => re.test(line.replace(ANSI, ""));
  }
  return (line) => line.replace(ANSI, "").includes(pattern);
}

export function checkCount(actual: number, spec: CountSpec): boolean {
  return (spec.min === undefined || actual >= spec.min) && (spec.max === undefined || actual <= spec.max);
}

export function describeCount(spec: CountSpec): string {
  if (spec.min !== undefined && spec.min === spec.max) return `exactly ${spec.min}`;
  if (spec.min !== undefined && spec.max !== undefined) return `between ${spec.min} and ${spec.max}`;
  if (spec.min !== undefined) return `at least ${spec.min}`;
  if (spec.max !== undefined) return `at most ${spec.max}`;
  return "any number";
}

const MIME: Record<string, string> = {
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  txt: "text/plain",
  pdf: "application/pdf",
  json: "application/json",
  zip: "application/zip",
};

export function mimetypeFor(name: string): string {
  const ext = name.toLowerCase().split(".").pop() ?? "";
  return MIME[ext] ?? "application/octet-stream";
}

/** Deterministic pseudo-random bytes (xorshift32), so failures reproduce byte for byte. */
export function deterministicBytes(size: number, seed = 0x9e3779b9): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i += 4) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
    if (i + 1 < size) out[i + 1] = (x >>> 8) & 0xff;
    if (i + 2 < size) out[i + 2] = (x >>> 16) & 0xff;
    if (i + 3 < size) out[i + 3] = (x >>> 24) & 0xff;
  }
  return out;
}

export { generatePng } from "../util/png.ts";

export function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/**
 * Stands for a mention, emoji, broadcast or date in a plain-text pattern: the bridge renders those its
 * own way (a ghost's name, "@room", a Unicode emoji), which `expect` checks precisely when it matters.
 */
export const ANY = "\u0000";

type RichElement = Record<string, any>;

/**
 * The plain text of rich_text blocks: text and link labels as they are, block-level elements and list
 * items on their own lines. `pattern` renders mentions, emoji, broadcasts and dates as ANY; otherwise
 * as Slack's own forms (`@U…`, `:name:`).
 */
export function plainFromBlocks(blocks: unknown, mode: "pattern" | "text"): string {
  const out: string[] = [];
  const inline = (e: RichElement): string => {
    switch (e.type) {
      case "text":
        return String(e.text ?? "");
      case "link":
        return String(e.text || e.url || "");
      case "user":
        return mode === "pattern" ? ANY : `@${e.user_id}`;
      case "channel":
        return mode === "pattern" ? ANY : `#${e.channel_id}`;
      case "emoji":
        return mode === "pattern" ? ANY : `:${e.name}:`;
      case "usergroup":
      case "broadcast":
      case "date":
      case "message_mention":
        return ANY;
      default:
        return "";
    }
  };
  const block = (e: RichElement): void => {
    if (!e || typeof e !== "object") return;
    const children: RichElement[] = Array.isArray(e.elements) ? e.elements : [];
    if (e.type === "rich_text_list") for (const item of children) block(item);
    else if (e.type?.startsWith("rich_text_")) out.push(children.map(inline).join(""));
    else if (e.type === "rich_text") for (const c of children) block(c);
    else if (e.text && typeof e.text === "object") out.push(String(e.text.text ?? ""));
  };
  for (const b of Array.isArray(blocks) ? blocks : []) block(b as RichElement);
  return out.join("\n");
}

const BLOCK_TAG = /<\/?(p|br|li|ul|ol|blockquote|pre|h[1-6]|hr|tr|table|div)\b[^>]*>/gi;
const PILL = /<a\s+href="https:\/\/matrix\.to\/#\/[@!#][^"]*"[^>]*>.*?<\/a>/gi;

/** The plain text of Matrix HTML; with `pillsAsAny`, mention pills become ANY. */
export function plainFromHtml(html: string, opts: { pillsAsAny?: boolean } = {}): string {
  let s = opts.pillsAsAny ? html.replace(PILL, ANY) : html;
  s = s
    .replace(BLOCK_TAG, "\n")
    .replace(/<img\b[^>]*alt="([^"]*)"[^>]*>/gi, "$1")
    .replace(/<[^>]+>/g, "");
  return s
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#0?39;/g, "'")
    .replace(/&nbsp;/g, " ")
    .replace(/&amp;/g, "&");
}

/**
 * Whether `actual` is the plain text `pattern` describes: whitespace runs compare equal, ANY matches
 * any text (a rendered mention). Returns the regular expression tried, for messages.
 */
export function plainMatches(pattern: string, actual: string): { ok: boolean; expected: string } {
  const norm = (s: string) => s.replace(/\s+/g, " ").trim();
  const parts = norm(pattern.replace(new RegExp(`\\s*${ANY}\\s*`, "g"), ` ${ANY} `)).split(ANY);
  const re = new RegExp(
    `^${parts
      .map((p) =>
        p
          .trim()
          .replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
          .replace(/ /g, "\\s*"),
      )
      .join("[\\s\\S]*?")}$`,
  );
  return { ok: re.test(norm(actual)), expected: norm(pattern).replaceAll(ANY, "…") };
}
