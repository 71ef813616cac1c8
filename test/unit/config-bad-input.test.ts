// The ten likeliest scenario mistakes, each with the exact message an operator sees.
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { checkEnvironmentFile } from "../../src/config/environment.ts";
import { formatProblems } from "../../src/config/errors.ts";
import { checkScenarioFile } from "../../src/config/scenario.ts";
import { assertImagesPresent, checkDockerEngine, missingImageMessage } from "../../src/images/image-map.ts";

let dir: string;

const ENV = `name: default
homeserver:
  image: matrixdotorg/synapse:v1.163.2
  config: [overlays/synapse.yaml]
postgres:
  image: postgres:16
bridge:
  image: mautrix/slack:v0.2.0
  config: [overlays/mautrix-slack.yaml]
`;

const HEAD = `environment: default
slack:
  team: { name: chochacho }
  users: [bob, carol]
  channels:
    - { name: dev-platform, members: [bob, carol, "@bot"] }
matrix:
  users: [alice]
`;

function write(rel: string, text: string): string {
  const file = path.join(dir, rel);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}

async function scenarioErrors(body: string, head = HEAD): Promise<string> {
  const file = write("scenarios/case.yaml", head + body);
  const { spec, problems } = await checkScenarioFile(file);
  expect(spec).toBeUndefined();
  return formatProblems(problems).split(dir).join("<dir>");
}

function environmentErrors(text: string): string {
  const file = write("environments/case.yaml", text);
  const problems: Parameters<typeof checkEnvironmentFile>[1] = [];
  expect(checkEnvironmentFile(file, problems)).toBeUndefined();
  return formatProblems(problems).split(dir).join("<dir>");
}

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "bh-config-"));
  write("environments/default.yaml", ENV);
  write("environments/overlays/synapse.yaml", "presence: { enabled: false }\n");
  write("environments/overlays/mautrix-slack.yaml", "network: { backfill: { conversation_count: 10 } }\n");
});

describe("the ten likeliest scenario mistakes", () => {
  it("1. wrong indentation: step fields beside the step type instead of under it", async () => {
    expect(
      await scenarioErrors(`steps:
  - slack.post:
    user: bob
    channel: "#dev-platform"
    text: hello
`),
    ).toBe(
      [
        '<dir>/scenarios/case.yaml:10:5: steps[0].slack.post: missing fields "user", "channel" and "text" (hint: write them indented under "slack.post:")',
        '<dir>/scenarios/case.yaml:11:5: steps[0].user: unknown key "user" (hint: "user" is a field of "slack.post": indent it under "slack.post:" (column 7), not beside it)',
        '<dir>/scenarios/case.yaml:12:5: steps[0].channel: unknown key "channel" (hint: "channel" is a field of "slack.post": indent it under "slack.post:" (column 7), not beside it)',
        '<dir>/scenarios/case.yaml:13:5: steps[0].text: unknown key "text" (hint: "text" is a field of "slack.post": indent it under "slack.post:" (column 7), not beside it)',
      ].join("\n"),
    );
  });

  it("1b. wrong indentation that breaks the YAML itself", async () => {
    expect(
      await scenarioErrors(`steps:
  - slack.post:
      user: bob
     text: hello
`),
    ).toBe(
      "<dir>/scenarios/case.yaml:12:1: (yaml): All mapping items must start at the same column (hint: check the indentation: fields of one mapping start in the same column, list items start with '- ')",
    );
  });

  it("2. unknown step type", async () => {
    expect(
      await scenarioErrors(`steps:
  - slack.pots: { user: bob, channel: "#dev-platform", text: hello }
`),
    ).toBe(
      '<dir>/scenarios/case.yaml:10:5: steps[0]: unknown step "slack.pots" (hint: did you mean "slack.post"?)',
    );
  });

  it("3. unknown user or channel", async () => {
    expect(
      await scenarioErrors(`steps:
  - slack.post: { user: dave, channel: "#dev-plaform", text: hello }
  - matrix.send: { user: bob, channel: "#random", text: hi }
`),
    ).toBe(
      [
        '<dir>/scenarios/case.yaml:10:25: steps[0].slack.post.user: unknown Slack user "dave" (hint: users in the slack: seed: bob, carol)',
        '<dir>/scenarios/case.yaml:10:40: steps[0].slack.post.channel: unknown Slack channel "#dev-plaform" (hint: did you mean "#dev-platform"?)',
        '<dir>/scenarios/case.yaml:11:26: steps[1].matrix.send.user: unknown Matrix user "bob" (hint: declared in matrix.users: alice)',
        '<dir>/scenarios/case.yaml:11:40: steps[1].matrix.send.channel: unknown Slack channel "#random" (hint: channels in the slack: seed: #dev-platform)',
      ].join("\n"),
    );
  });

  it("4. missing environment", async () => {
    // The hint lists the case's own environments and the ones under the working directory.
    const shippedEnvironments = () =>
      [
        ...new Set([
          "default",
          ...readdirSync("environments")
            .filter((f) => f.endsWith(".yaml"))
            .map((f) => f.replace(/\.yaml$/, "")),
        ]),
      ]
        .sort()
        .join(", ");
    expect(
      await scenarioErrors(
        `steps:
  - wait.healthy
`,
        HEAD.replace("environment: default", "environment: production"),
      ),
    ).toBe(
      `<dir>/scenarios/case.yaml:1:14: environment: environment "production" not found (looked for <dir>/environments/production.yaml, <dir>/scenarios/environments/production.yaml, environments/production.yaml) (hint: available: ${shippedEnvironments()})`,
    );
    expect(
      await scenarioErrors("steps:\n  - wait.healthy\n", HEAD.replace("environment: default\n", "")),
    ).toBe(
      '<dir>/scenarios/case.yaml:1:1: environment: required field missing (hint: add "environment:" (environment name ("default" = environments/default.yaml) or path relative to this file))',
    );
  });

  it("5. bad duration", async () => {
    expect(
      await scenarioErrors(`budgets:
  default: 5 seconds
steps:
  - wait.healthy
  - restart: { service: bridge }
    timeout: 1.5 min
`),
    ).toBe(
      [
        '<dir>/scenarios/case.yaml:10:12: budgets.default: expected a duration like "5s" or "500ms", got "5 seconds" (hint: use ms, s, m or h: "500ms", "5s", "2m", or a number of milliseconds)',
        '<dir>/scenarios/case.yaml:14:14: steps[1].timeout: expected a duration like "5s" or "500ms", got "1.5 min" (hint: use ms, s, m or h: "500ms", "5s", "2m", or a number of milliseconds)',
      ].join("\n"),
    );
  });

  it("6. budget not a number", async () => {
    expect(
      await scenarioErrors(`steps:
  - wait.healthy
  - slack.post: { user: bob, channel: "#dev-platform", text: hello }
    budget: fast
  - matrix.send: { user: alice, channel: "#dev-platform", text: hi }
    budget: [5s]
`),
    ).toBe(
      [
        '<dir>/scenarios/case.yaml:12:13: steps[1].budget: expected a duration like "5s" or "500ms", got "fast" (hint: use ms, s, m or h: "500ms", "5s", "2m", or a number of milliseconds)',
        '<dir>/scenarios/case.yaml:14:13: steps[2].budget: expected a duration like "5s" or "500ms", got a list (hint: use ms, s, m or h: "500ms", "5s", "2m", or a number of milliseconds)',
      ].join("\n"),
    );
  });

  it("7. missing image: absent or malformed in the environment file (validate)", () => {
    expect(
      environmentErrors(`homeserver:
  image: matrixdotorg/synapse:v1.163.2
postgres: {}
bridge:
  image: Mautrix/Slack v0.2.0
`),
    ).toBe(
      [
        '<dir>/environments/case.yaml:3:11: postgres.image: required field missing (hint: add "image:" (PostgreSQL image ("postgres:16")))',
        '<dir>/environments/case.yaml:5:10: bridge.image: "Mautrix/Slack v0.2.0" is not an image reference like "name:tag" (lower case, e.g. "mautrix/slack:v0.2.0")',
      ].join("\n"),
    );
  });

  it("7b. missing image: not in the Docker engine (run time, from the image checker)", () => {
    const msg = missingImageMessage("mautrix/slack:v9.9.9").split("\n");
    expect(msg[0]).toBe(
      "Docker image mautrix/slack:v9.9.9 is not present in the local Docker engine, and this machine pulls nothing from a registry.",
    );
    expect(msg[1]).toBe("Build the images with: ./harness images build");
    expect(msg[2]).toMatch(
      /point --image-map \/ \$BRIDGE_HARNESS_IMAGE_MAP at a file mapping "mautrix\/slack:v9.9.9" to a local image\.$/,
    );
  });

  it("7c. missing image: assertImagesPresent names the image (when a Docker engine answers)", async () => {
    const engine = await checkDockerEngine().then(
      () => true,
      () => false,
    );
    if (!engine) return; // the message itself is covered by 7b
    await expect(assertImagesPresent(["bridge-harness/no-such-image:0.0.0"])).rejects.toThrow(
      "Docker image bridge-harness/no-such-image:0.0.0 is not present in the local Docker engine, and this machine pulls nothing from a registry.\nBuild the images with: ./harness images build --only no-such-image:0.0.0",
    );
  });

  it("8. overlay file not found", () => {
    expect(
      environmentErrors(`homeserver:
  image: matrixdotorg/synapse:v1.163.2
postgres:
  image: postgres:16
bridge:
  image: mautrix/slack:v0.2.0
  config: [overlays/mautrix-slack.yaml, ../prod/mautrix-slack.yaml]
`),
    ).toBe(
      "<dir>/environments/case.yaml:7:41: bridge.config[1]: overlay file not found: <dir>/prod/mautrix-slack.yaml (hint: paths are relative to the environment file's folder (<dir>/environments))",
    );
  });

  it("9. duplicate step ids", async () => {
    expect(
      await scenarioErrors(`steps:
  - id: hello
    slack.post: { user: bob, channel: "#dev-platform", text: hello }
  - id: hello
    matrix.send: { user: alice, channel: "#dev-platform", text: hello back }
`),
    ).toBe(
      '<dir>/scenarios/case.yaml:12:9: steps[1].id: duplicate step id "hello" (already used by steps[0] on line 10) (hint: step ids must be unique; rename one)',
    );
  });

  it("10. wrong types", async () => {
    expect(
      await scenarioErrors(
        `options: { continue_on_failure: "yes" }
steps:
  - slack.post: { user: bob, channel: "#dev-platform", text: [hello] }
  - expect.db: { portals: many }
  - slack.react: { user: bob, message: 1-slack.post, emoji: 42 }
`,
        HEAD.replace("users: [alice]", "users: alice"),
      ),
    ).toBe(
      [
        '<dir>/scenarios/case.yaml:8:10: matrix.users: expected a list, got "alice" (hint: write it as a list: [alice])',
        '<dir>/scenarios/case.yaml:9:33: options.continue_on_failure: expected true or false, got "yes" (hint: write true or false without quotes)',
        "<dir>/scenarios/case.yaml:11:62: steps[0].slack.post.text: expected a string, got a list",
        '<dir>/scenarios/case.yaml:12:27: steps[1].expect.db.portals: expected a number or a mapping with min/max, got "many" (hint: write an exact count (3) or a range ({ min: 1 }))',
        '<dir>/scenarios/case.yaml:13:61: steps[2].slack.react.emoji: expected a string, got the number 42 (hint: quote it: "42")',
      ].join("\n"),
    );
  });
});

describe("references between steps", () => {
  it("message refers to a later or non-message step", async () => {
    expect(
      await scenarioErrors(`steps:
  - slack.edit: { user: bob, message: later, text: x }
  - id: later
    slack.post: { user: bob, channel: "#dev-platform", text: hello }
`),
    ).toBe(
      '<dir>/scenarios/case.yaml:10:39: steps[0].slack.edit.message: "later" is not an earlier step that posted a message (hint: refer to the id of an earlier slack.post, matrix.send, slack.upload or matrix.upload step)',
    );
  });

  it("collects every problem, not only the first, across the scenario, its environment and its seed", async () => {
    write("environments/broken.yaml", ENV.replace("postgres:16", "Postgres 16"));
    const out = await scenarioErrors(
      `steps:
  - slack.pots: {}
  - login: { user: alice, via: carrier-pigeon }
`,
      HEAD.replace("environment: default", "environment: broken").replace(
        "users: [bob, carol]",
        "users: [bob, carol, Bob]",
      ),
    );
    expect(out.split("\n")).toHaveLength(4);
    expect(out).toContain("<dir>/environments/broken.yaml:6:10: postgres.image:");
    expect(out).toContain('steps[0]: unknown step "slack.pots"');
    expect(out).toContain(
      'steps[1].login.via: expected one of "chat" or "provisioning", got "carrier-pigeon"',
    );
    expect(out).toContain(
      `<dir>/scenarios/case.yaml:4:23: slack.users[2]: "Bob" is not a valid user name (hint: lowercase letters, digits, '.', '_' and '-')`,
    );
  });
});
