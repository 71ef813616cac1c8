// Reading a YAML file with positions, and reporting problems against its nodes.
import { readFileSync } from "node:fs";
import { type Document, isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from "yaml";
import type { ConfigProblem } from "./errors.ts";

export interface YamlSource {
  file: string;
  text: string;
  lines: LineCounter;
  /** Root node (undefined for an empty document). */
  root: Node | null | undefined;
  problems: ConfigProblem[];
  /** The parsed document (resolves `*alias` references to `&anchor`s). */
  doc?: Document;
}

const SYNTAX_HINTS: [RegExp, string][] = [
  [
    /indent|same column|mapping items|Implicit keys|flow collection/i,
    "check the indentation: fields of one mapping start in the same column, list items start with '- '",
  ],
  [/Map keys must be unique/i, "each key may appear once per mapping"],
  [/tab/i, "indent with spaces, not tabs"],
];

export function readYamlFile(file: string, fieldForMissing = "(file)"): YamlSource {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return {
      file,
      text: "",
      lines: new LineCounter(),
      root: undefined,
      problems: [
        {
          file,
          line: 1,
          column: 1,
          field: fieldForMissing,
          message:
            code === "ENOENT" ? `file not found: ${file}` : `cannot read file: ${(e as Error).message}`,
        },
      ],
    };
  }
  return parseYamlText(file, text);
}

export function parseYamlText(file: string, text: string): YamlSource {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const problems: ConfigProblem[] = [];
  for (const err of [...doc.errors, ...doc.warnings]) {
    const pos = err.linePos?.[0] ?? lines.linePos(err.pos[0]);
    const message = err.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
    const hint = SYNTAX_HINTS.find(([re]) => re.test(message))?.[1];
    problems.push({ file, line: pos.line, column: pos.col, field: "(yaml)", message, hint });
  }
  return { file, text, lines, root: doc.contents as Node | null, problems, doc };
}

/** Collects problems while walking one file. */
export class Reporter {
  readonly src: YamlSource;
  constructor(src: YamlSource) {
    this.src = src;
  }
  get problems(): ConfigProblem[] {
    return this.src.problems;
  }
  position(node: Node | null | undefined): { line: number; column: number } {
    const offset = node?.range?.[0];
    if (offset === undefined) return { line: 1, column: 1 };
    const p = this.src.lines.linePos(offset);
    return { line: p.line, column: p.col };
  }
  report(node: Node | null | undefined, field: string, message: string, hint?: string): void {
    const { line, column } = this.position(node);
    this.src.problems.push({ file: this.src.file, line, column, field, message, hint });
  }
}

/** "a list", "a mapping", `the string "x"`, "the number 5", "nothing". */
export function describeNode(node: Node | null | undefined): string {
  if (node === null || node === undefined) return "nothing";
  if (isMap(node)) return "a mapping";
  if (isSeq(node)) return "a list";
  if (isScalar(node)) {
    const v = node.value;
    if (v === null) return "nothing";
    if (typeof v === "string") return `"${v}"`;
    if (typeof v === "number") return `the number ${v}`;
    if (typeof v === "boolean") return `${v}`;
    return String(v);
  }
  return "an alias";
}
