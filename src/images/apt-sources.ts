// Finds the Debian mirror the host itself uses, from its apt sources (one-line and deb822 formats),
// so that images are built from the same archive the machine is allowed to reach.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export interface AptSource {
  uri: string;
  suites: string[];
}

/** Parses the text of a sources.list (one-line) or *.sources (deb822) file. */
export function parseAptSources(text: string, format: "list" | "deb822"): AptSource[] {
  const out: AptSource[] = [];
  if (format === "list") {
    for (const raw of text.split("\n")) {
      const line = raw.replace(/#.*/, "").trim();
      // deb [options] uri suite [component...]
      const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line);
      if (m) out.push({ uri: m[1], suites: [m[2]] });
    }
    return out;
  }
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    let last = "";
    for (const raw of stanza.split("\n")) {
      if (raw.startsWith("#")) continue;
      if (/^\s/.test(raw) && last) {
        fields.set(last, `${fields.get(last)} ${raw.trim()}`);
        continue;
      }
      const m = /^([A-Za-z-]+):\s*(.*)$/.exec(raw);
      if (m) {
        last = m[1].toLowerCase();
        fields.set(last, m[2].trim());
      }
    }
    if (fields.get("enabled")?.toLowerCase() === "no") continue;
    const types = (fields.get("types") ?? "").split(/\s+/);
    if (!types.includes("deb")) continue;
    const suites = (fields.get("suites") ?? "").split(/\s+/).filter(Boolean);
    for (const uri of (fields.get("uris") ?? "").split(/\s+/).filter(Boolean)) out.push({ uri, suites });
  }
  return out;
}

/** The mirrors serving `suite` and `<suite>-security`; the first one listed wins. */
export function mirrorsFor(sources: AptSource[], suite: string): { main?: string; security?: string } {
  return {
    main: sources.find((s) => s.suites.includes(suite))?.uri,
    security: sources.find((s) => s.suites.includes(`${suite}-security`))?.uri,
  };
}

export function readHostAptSources(etcApt = "/etc/apt"): AptSource[] {
  const out: AptSource[] = [];
  const read = (file: string, format: "list" | "deb822") => {
    try {
      out.push(...parseAptSources(readFileSync(file, "utf8"), format));
    } catch {
      // missing or unreadable: not a source
    }
  };
  read(join(etcApt, "sources.list"), "list");
  let names: string[] = [];
  try {
    names = readdirSync(join(etcApt, "sources.list.d")).sort();
  } catch {
    names = [];
  }
  for (const name of names) {
    if (name.endsWith(".list")) read(join(etcApt, "sources.list.d", name), "list");
    else if (name.endsWith(".sources")) read(join(etcApt, "sources.list.d", name), "deb822");
  }
  return out;
}
