// Availability from probe records: the share of probes delivered within their budget, and per fault
// the recovery — from the fault's end to the arrival of the first probe sent after it that met the
// budget. Pure functions, so the figures are tested without containers.

import { DIRECTIONS } from "../report/latency.ts";
import type { AvailabilityResult, Direction, FaultWindow, ProbeRecord } from "../report/model.ts";
import { lineMatcher } from "../scenario/content.ts";

export function withinBudget(p: ProbeRecord, budgetMs: Record<Direction, number>): boolean {
  return p.deliveredAt !== undefined && p.deliveredAt - p.sentAt <= budgetMs[p.direction];
}

export function computeAvailability(opts: {
  stepId: string;
  everyMs: number;
  budgetMs: Record<Direction, number>;
  startAt: number;
  endAt: number;
  probes: readonly ProbeRecord[];
  faults: readonly FaultWindow[];
  min?: number;
}): AvailabilityResult {
  const { probes, budgetMs } = opts;
  const ok = (p: ProbeRecord) => withinBudget(p, budgetMs);
  const directions = DIRECTIONS.map((direction) => {
    const mine = probes.filter((p) => p.direction === direction);
    return {
      direction,
      sent: mine.length,
      withinBudget: mine.filter(ok).length,
      late: mine.filter((p) => p.deliveredAt !== undefined && !ok(p)).length,
      lost: mine.filter((p) => p.deliveredAt === undefined).length,
      duplicated: mine.filter((p) => p.arrivals > 1).length,
      knownProblem: mine.filter((p) => knownProblemOf(p, opts.faults)).length,
    };
  });
  const recovery = opts.faults
    .filter((f) => f.endAt !== undefined && f.startAt >= opts.startAt && f.startAt <= opts.endAt)
    .flatMap((f) =>
      DIRECTIONS.map((direction) => {
        const end = f.endAt as number;
        const first = probes
          .filter((p) => p.direction === direction && p.sentAt >= end && ok(p))
          .sort((x, y) => x.sentAt - y.sentAt)[0];
        return {
          stepId: f.stepId,
          type: f.type,
          target: f.target,
          direction,
          recoveryMs: first?.deliveredAt === undefined ? null : first.deliveredAt - end,
        };
      }),
    );
  return {
    stepId: opts.stepId,
    everyMs: opts.everyMs,
    budgetMs,
    startAt: opts.startAt,
    endAt: opts.endAt,
    availability: probes.length ? probes.filter(ok).length / probes.length : Number.NaN,
    ...(opts.min === undefined ? {} : { min: opts.min }),
    directions,
    recovery,
    probes: [...probes],
  };
}

/** What went wrong with a probe, as a fault's `expected_failure.matches` is tried on it. */
export function probeProblem(p: ProbeRecord): string | undefined {
  if (p.deliveredAt === undefined) return "lost";
  return p.arrivals > 1 ? `${p.arrivals - 1} duplicated` : undefined;
}

/**
 * The known problem a lost or duplicated probe is put down to: a fault whose window it overlaps
 * (sent before the deployment recovered, not delivered before the fault began) and that failed as
 * expected, or that is marked to cause now and then what happened to the probe.
 */
export function knownProblemOf(
  p: ProbeRecord,
  faults: readonly FaultWindow[],
): { fault: FaultWindow; reason: string } | undefined {
  const problem = probeProblem(p);
  if (!problem) return undefined;
  for (const f of faults) {
    const overlaps =
      (p.deliveredAt ?? Number.POSITIVE_INFINITY) >= f.startAt &&
      p.sentAt <= (f.recoveredAt ?? f.endAt ?? Number.POSITIVE_INFINITY);
    if (!overlaps) continue;
    if (f.knownProblem) return { fault: f, reason: f.knownProblem };
    if (f.mayCause && lineMatcher(f.mayCause.matches)(problem))
      return { fault: f, reason: f.mayCause.reason };
  }
  return undefined;
}

/** "99%" -> 0.99 */
export function parsePercent(text: string): number {
  return Number(text.replace(/%$/, "")) / 100;
}

/** 0.99512 -> "99.51%" */
export function formatPercent(share: number): string {
  return Number.isFinite(share) ? `${(share * 100).toFixed(2)}%` : "–";
}

/** The problems expect.availability fails on (empty: it passes). */
export function availabilityProblems(r: AvailabilityResult, opts: { maxRecoveryMs?: number }): string[] {
  const problems: string[] = [];
  for (const d of r.directions) {
    // Lost or duplicated outside the window of a known (expected) problem: a finding.
    const unexplained = d.lost + d.duplicated - d.knownProblem;
    if (unexplained > 0)
      problems.push(
        `${d.lost} ${d.direction} probe(s) lost and ${d.duplicated} duplicated${d.knownProblem ? `, ${d.knownProblem} of them during a known problem` : ""}`,
      );
  }
  if (r.min !== undefined && !(r.availability >= r.min))
    problems.push(`availability ${formatPercent(r.availability)} is under ${formatPercent(r.min)}`);
  if (opts.maxRecoveryMs !== undefined)
    for (const x of r.recovery)
      if (x.recoveryMs === null || x.recoveryMs > opts.maxRecoveryMs)
        problems.push(
          `${x.direction} after ${x.stepId} (${x.type} ${x.target}): ${x.recoveryMs === null ? "no probe within budget afterwards" : `recovered in ${Math.round(x.recoveryMs)} ms`}, over ${opts.maxRecoveryMs} ms`,
        );
  return problems;
}
