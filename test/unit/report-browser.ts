// Opens an HTML report in headless Chromium (playwright-core + the system's chromium) and collects
// what the report tests assert: rendering facts, console errors and every request the page made.
import { existsSync } from "node:fs";
import { pathToFileURL } from "node:url";

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM_PATH);
}

export interface PageFacts {
  title: string;
  consoleErrors: string[];
  /** Every request other than the report file itself. */
  otherRequests: string[];
  timelines: { scenario: string; steps: number; setup: number }[];
  charts: { scenario: string; direction: string; points: number; overBudget: number; refLines: string[] }[];
  stepRows: number;
  failures: number;
  logLinks: string[];
  headerText: string;
  /** Fault windows shaded on the timelines, probe marks, rows of the faults table. */
  faultBands: number;
  probeMarks: { ok: number; late: number; lost: number };
  faultRows: number;
  availabilityText: string;
  /** Document width vs viewport: no horizontal overflow. */
  scrollWidth: number;
  viewportWidth: number;
}

/** Loads `htmlPath`, saves a full-page screenshot to `screenshotPath`, returns what it saw. */
export async function inspectReport(htmlPath: string, screenshotPath: string): Promise<PageFacts> {
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: CHROMIUM_ARGS,
    headless: true,
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
    const consoleErrors: string[] = [];
    const otherRequests: string[] = [];
    const url = pathToFileURL(htmlPath).href;
    page.on("console", (msg) => {
      if (msg.type() === "error") consoleErrors.push(msg.text());
    });
    page.on("pageerror", (err) => consoleErrors.push(String(err)));
    page.on("request", (req) => {
      if (req.url() !== url) otherRequests.push(req.url());
    });
    await page.goto(url, { waitUntil: "load" });
    await page.screenshot({ path: screenshotPath, fullPage: true });
    const facts = await page.evaluate(() => {
      const q = (sel: string, root: ParentNode = document) => Array.from(root.querySelectorAll(sel));
      return {
        title: document.title,
        timelines: q("svg.timeline").map((svg) => ({
          scenario: svg.getAttribute("data-scenario") ?? "",
          steps: q("rect.tl-step", svg).filter((r) => (r as SVGRectElement).getBBox().width > 0).length,
          setup: q(`svg.setup[data-scenario="${svg.getAttribute("data-scenario")}"] rect.tl-setup`).length,
        })),
        charts: q("svg.latency-chart").map((svg) => ({
          scenario: svg.getAttribute("data-scenario") ?? "",
          direction: svg.getAttribute("data-direction") ?? "",
          points: q("circle.pt", svg).length,
          overBudget: q("circle.pt.over", svg).length,
          refLines: q("text.reflabel", svg).map((t) => t.textContent ?? ""),
        })),
        stepRows: q("table.steps tbody tr[id]").length,
        failures: q("section.failures article.failure").length,
        logLinks: q("a.log").map((a) => a.getAttribute("href") ?? ""),
        headerText: (document.querySelector("header") as HTMLElement | null)?.innerText ?? "",
        faultBands: q("svg.timeline rect.tl-fault").length,
        probeMarks: {
          ok: q("rect.tl-probe.ok").length,
          late: q("rect.tl-probe.late").length,
          lost: q("rect.tl-probe.lost").length,
        },
        faultRows: q("table.faults tbody tr").length,
        availabilityText: (document.querySelector("p.availability") as HTMLElement | null)?.innerText ?? "",
        scrollWidth: document.documentElement.scrollWidth,
        viewportWidth: window.innerWidth,
      };
    });
    return { ...facts, consoleErrors, otherRequests };
  } finally {
    await browser.close();
  }
}

export interface ParsedXml {
  /** The parser's error text, if the document is not well-formed. */
  error?: string;
  counts: Record<string, number>;
  /** Attribute values and text as the parser decoded them. */
  suiteNames: string[];
  failureMessages: string[];
  systemOut: string[];
}

/** Parses an XML document with the browser's XML parser (a strict, independent well-formedness check). */
export async function parseXmlInBrowser(xml: string): Promise<ParsedXml> {
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: CHROMIUM_ARGS,
    headless: true,
  });
  try {
    const page = await browser.newPage();
    return await page.evaluate((text) => {
      const doc = new DOMParser().parseFromString(text, "application/xml");
      const error = doc.querySelector("parsererror")?.textContent ?? undefined;
      const counts: Record<string, number> = {};
      for (const tag of [
        "testsuites",
        "testsuite",
        "testcase",
        "failure",
        "skipped",
        "system-out",
        "property",
      ]) {
        counts[tag] = doc.getElementsByTagName(tag).length;
      }
      const all = (tag: string) => Array.from(doc.getElementsByTagName(tag));
      return {
        error,
        counts,
        suiteNames: all("testsuite").map((e) => e.getAttribute("name") ?? ""),
        failureMessages: all("failure").map((e) => e.getAttribute("message") ?? ""),
        systemOut: all("system-out").map((e) => e.textContent ?? ""),
      };
    }, xml);
  } finally {
    await browser.close();
  }
}
