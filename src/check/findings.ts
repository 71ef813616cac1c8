// The findings model: every check has a stable id, a default severity, what it catches, why that
// matters (with the evidence) and the fix. A finding is one occurrence, at file:line.

export type Severity = "error" | "warning" | "info";

export const SEVERITIES: readonly Severity[] = ["error", "warning", "info"];

/** One check, as docs/config-checks.md lists it. */
export interface CheckSpec {
  /** Stable id, `<subject>.<what>`: used in output, `production.ignore` and the step's `expect`. */
  id: string;
  severity: Severity;
  /** What it catches, one line. */
  catches: string;
  /** Why it matters: the consequence at runtime and the evidence for it. */
  why: string;
  fix: string;
  /** The scenario (or reference) that shows the consequence for real, when there is one. */
  evidence?: string;
}

export interface Finding {
  id: string;
  severity: Severity;
  file: string;
  line: number;
  column?: number;
  /** What is wrong here, with the values involved. */
  message: string;
  why: string;
  fix: string;
}

/** Where a finding points. */
export interface Position {
  file: string;
  line: number;
  column?: number;
}

/** Collects findings for the checks of one run; severity, why and fix default to the check's own. */
export class Findings {
  readonly list: Finding[] = [];
  private readonly specs: ReadonlyMap<string, CheckSpec>;
  private readonly ignored: ReadonlySet<string>;

  constructor(specs: readonly CheckSpec[], ignored: readonly string[] = []) {
    this.specs = new Map(specs.map((s) => [s.id, s]));
    this.ignored = new Set(ignored);
  }

  add(
    id: string,
    at: Position,
    message: string,
    extra: { severity?: Severity; why?: string; fix?: string } = {},
  ): void {
    const spec = this.specs.get(id);
    if (!spec) throw new Error(`unknown check id "${id}"`);
    if (this.ignored.has(id)) return;
    this.list.push({
      id,
      severity: extra.severity ?? spec.severity,
      file: at.file,
      line: at.line,
      ...(at.column ? { column: at.column } : {}),
      message,
      why: extra.why ?? spec.why,
      fix: extra.fix ?? spec.fix,
    });
  }

  sorted(): Finding[] {
    return [...this.list].sort(
      (a, b) =>
        a.file.localeCompare(b.file) ||
        a.line - b.line ||
        SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity) ||
        a.id.localeCompare(b.id),
    );
  }
}

/** Whether a severity is `threshold` or worse (error is worst). */
export function reaches(severity: Severity, threshold: Severity): boolean {
  return SEVERITIES.indexOf(severity) <= SEVERITIES.indexOf(threshold);
}

export function countBySeverity(findings: readonly Finding[]): Record<Severity, number> {
  const counts: Record<Severity, number> = { error: 0, warning: 0, info: 0 };
  for (const f of findings) counts[f.severity]++;
  return counts;
}
