// Latency statistics: nearest-rank percentiles and the per-direction summary every report shows.
import type { Direction, LatencySample, LatencySummary } from "./model.ts";

/** Directions in the order reports show them. */
export const DIRECTIONS: readonly Direction[] = ["slack_to_matrix", "matrix_to_slack"];

/**
 * Nearest-rank percentile: the smallest value such that at least `p` percent of the values are less
 * than or equal to it (rank = ceil(p/100 * n), 1-based). `p` in [0, 100]; p = 0 gives the minimum.
 * Returns NaN for an empty list. The input is not modified.
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be between 0 and 100, got ${p}`);
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

/**
 * One summary per direction that has samples, Slack->Matrix first. `budgetMs` is the budget the
 * samples share (the strictest one when they differ); `withinBudget` is true when every sample is
 * within its own budget, i.e. `max <= budgetMs` when all samples share one budget.
 */
export function summarizeLatencies(samples: readonly LatencySample[]): LatencySummary[] {
  const out: LatencySummary[] = [];
  for (const direction of DIRECTIONS) {
    const mine = samples.filter((s) => s.direction === direction);
    if (mine.length === 0) continue;
    const values = mine.map((s) => s.latencyMs);
    out.push({
      direction,
      count: mine.length,
      p50: percentile(values, 50),
      p95: percentile(values, 95),
      max: Math.max(...values),
      budgetMs: Math.min(...mine.map((s) => s.budgetMs)),
      withinBudget: mine.every((s) => s.latencyMs <= s.budgetMs),
    });
  }
  return out;
}

export function directionLabel(direction: Direction, ascii = false): string {
  const arrow = ascii ? "->" : "→";
  return direction === "slack_to_matrix" ? `Slack ${arrow} Matrix` : `Matrix ${arrow} Slack`;
}

/** "812 ms", "4.30 s", "2 m 03 s". */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return "–";
  if (ms < 1000) return `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const totalS = Math.round(ms / 1000);
  return `${Math.floor(totalS / 60)} m ${String(totalS % 60).padStart(2, "0")} s`;
}
