// `bridge-harness fake-slack`: the fake Slack on its own, until Ctrl-C. Also `node fakes/slack/cli.ts`.
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { startFakeSlack } from "./index.ts";

const USAGE = `usage: bridge-harness fake-slack [--seed <file.yaml>] [--host H] [--port N]
                                [--proxy-host H] [--proxy-port N] [--dir D] [--quiet]
  --seed        Slack workspace seed (the scenario's slack: section); default: a small workspace
  --host/--port Web API, control API and ws:// Socket Mode (default 127.0.0.1, ephemeral port)
  --proxy-host/--proxy-port  HTTPS CONNECT proxy (default 127.0.0.1, ephemeral port)
  --dir         where ca.pem and tokens.json go (default: a new temp folder)
  --quiet       do not print the fake's log lines`;

interface Parsed {
  seed?: string;
  host?: string;
  port?: number;
  proxyHost?: string;
  proxyPort?: number;
  dir?: string;
  quiet: boolean;
}

function parse(args: string[]): Parsed | string {
  const out: Parsed = { quiet: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    const [flag, inline] = a.startsWith("--") && a.includes("=") ? a.split(/=(.*)/s) : [a, undefined];
    const value = (): string => {
      const v = inline ?? args[++i];
      if (v === undefined || v === "") throw new Error(`${flag} needs a value`);
      return v;
    };
    const port = (): number => {
      const v = value();
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 65535)
        throw new Error(`${flag}: "${v}" is not a port (0-65535)`);
      return n;
    };
    try {
      switch (flag) {
        case "--seed":
          out.seed = resolve(value());
          break;
        case "--host":
          out.host = value();
          break;
        case "--port":
          out.port = port();
          break;
        case "--proxy-host":
          out.proxyHost = value();
          break;
        case "--proxy-port":
          out.proxyPort = port();
          break;
        case "--dir":
          out.dir = resolve(value());
          break;
        case "--quiet":
          out.quiet = true;
          break;
        case "-h":
        case "--help":
          return "help";
        default:
          return `unknown option "${a}"`;
      }
    } catch (err) {
      return (err as Error).message;
    }
  }
  return out;
}

export async function runFakeSlackCommand(args: string[]): Promise<number> {
  const parsed = parse(args);
  if (parsed === "help") {
    console.log(USAGE);
    return 0;
  }
  if (typeof parsed === "string") {
    console.error(`fake-slack: ${parsed}\n${USAGE}`);
    return 2;
  }
  const dir = parsed.dir ?? (await mkdtemp(join(tmpdir(), "fake-slack-")));
  let fake: Awaited<ReturnType<typeof startFakeSlack>>;
  try {
    fake = await startFakeSlack({
      seed: parsed.seed,
      host: parsed.host,
      port: parsed.port,
      proxyHost: parsed.proxyHost,
      proxyPort: parsed.proxyPort,
      dir,
      log: parsed.quiet ? undefined : (line) => console.log(`[fake-slack] ${line}`),
    });
  } catch (err) {
    console.error(`fake-slack: ${(err as Error).message}`);
    return 1;
  }
  // Tokens go to a private file, never to the terminal.
  const tokensFile = join(dir, "tokens.json");
  const tokens = fake.workspace.apps.map((a) => ({
    appId: a.appId,
    name: a.name,
    botToken: a.botToken,
    appToken: a.appToken,
  }));
  await writeFile(tokensFile, `${JSON.stringify({ apps: tokens }, null, 2)}\n`, { mode: 0o600 });

  console.log(
    [
      `Fake Slack running (team ${fake.workspace.teamName} ${fake.workspace.teamId})`,
      `  Web API      ${fake.webApiUrl}`,
      `  HTTPS proxy  ${fake.proxyUrl}   (HTTPS_PROXY for a client that must reach https://slack.com)`,
      `  CA file      ${fake.caFile}   (SSL_CERT_FILE / NODE_EXTRA_CA_CERTS)`,
      `  Control API  ${fake.controlUrl}   (GET ${fake.controlUrl}workspace)`,
      `  App tokens   ${tokensFile}   (mode 0600)`,
      "Ctrl-C stops it.",
    ].join("\n"),
  );

  await new Promise<void>((resolveStop) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolveStop();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  await fake.stop();
  console.log("Fake Slack stopped.");
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  runFakeSlackCommand(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: Error) => {
      console.error(`fake-slack: ${err.message}`);
      process.exit(1);
    },
  );
}
