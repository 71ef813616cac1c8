// Configuration errors: every problem in an environment or scenario file is reported as
// `file:line:column: field: message (hint: ...)`, one per line, all of them at once.
import path from "node:path";

export interface ConfigProblem {
  /** Path of the file as given (relative to the working directory when possible). */
  file: string;
  line: number;
  column: number;
  /** Dotted field path inside the file: `steps[2].budget`; "(file)" for whole-file problems. */
  field: string;
  message: string;
  hint?: string;
}

/** Shows paths relative to the working directory when they are inside it. */
export function displayPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith("..") && !path.isAbsolute(rel) ? rel : file;
}

export function formatProblem(p: ConfigProblem): string {
  const hint = p.hint ? ` (hint: ${p.hint})` : "";
  return `${displayPath(p.file)}:${p.line}:${p.column}: ${p.field}: ${p.message}${hint}`;
}

export function formatProblems(problems: ConfigProblem[]): string {
  return sortProblems(problems).map(formatProblem).join("\n");
}

export function sortProblems(problems: ConfigProblem[]): ConfigProblem[] {
  return [...problems].sort((a, b) =>
    a.file === b.file ? a.line - b.line || a.column - b.column : a.file < b.file ? -1 : 1,
  );
}

/** Thrown by the loaders when a file has problems; `message` is the formatted list. */
export class ConfigError extends Error {
  readonly problems: ConfigProblem[];
  constructor(problems: ConfigProblem[]) {
    super(formatProblems(problems));
    this.name = "ConfigError";
    this.problems = sortProblems(problems);
  }
}

/** Closest candidate by edit distance, for "did you mean" hints (undefined when nothing is close). */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = c;
    }
  }
  const limit = Math.max(2, Math.floor(word.length / 3));
  return bestDistance <= limit ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length];
}

/** `"a", "b" or "c"` */
export function quoteList(items: readonly string[], conj = "or"): string {
  const q = items.map((i) => `"${i}"`);
  if (q.length <= 1) return q.join("");
  return `${q.slice(0, -1).join(", ")} ${conj} ${q[q.length - 1]}`;
}
