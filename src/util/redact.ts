// Secrets (Slack tokens, appservice tokens, shared secrets, passwords) are registered when they are
// generated and replaced by a marker wherever text leaves the process: logs, reports, errors.
const secrets = new Set<string>();

/** Token shapes that are always redacted, registered or not. */
const TOKEN_PATTERNS: RegExp[] = [
  /\bxox[abposr]-[A-Za-z0-9-]+/g,
  /\bxapp-[A-Za-z0-9-]+/g,
  /\bsyt_[A-Za-z0-9_]+/g,
  // matrix-authentication-service: compatibility access and refresh tokens, OAuth access and refresh tokens
  /\bm(?:ct|cr|at|ar)_[A-Za-z0-9_]+/g,
];

export function registerSecret(value: string | undefined | null): void {
  if (value && value.length >= 6) secrets.add(value);
}

export function redact(text: string): string {
  let out = text;
  for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join("[REDACTED]");
  for (const pattern of TOKEN_PATTERNS) out = out.replace(pattern, (m) => `${m.slice(0, 5)}[REDACTED]`);
  return out;
}

/** For tests only. */
export function clearSecrets(): void {
  secrets.clear();
}
