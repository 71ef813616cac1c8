// Labels carried by every container and network the harness creates; cleanup selects by them.
export const LABEL_RUN = "bridge-harness.run";
export const LABEL_PID = "bridge-harness.pid";
export const LABEL_SERVICE = "bridge-harness.service";
/** Set on resources of runs started with `keep`: the leftover sweep leaves them alone. */
export const LABEL_KEEP = "bridge-harness.keep";

export function runLabels(runId: string, opts: { keep?: boolean } = {}): Record<string, string> {
  const labels: Record<string, string> = { [LABEL_RUN]: runId, [LABEL_PID]: String(process.pid) };
  if (opts.keep) labels[LABEL_KEEP] = "true";
  return labels;
}

export function serviceLabels(
  runId: string,
  service: string,
  opts: { keep?: boolean } = {},
): Record<string, string> {
  return { ...runLabels(runId, opts), [LABEL_SERVICE]: service };
}
