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

describe("a message given more than one way", () => {
  it("slack.post takes exactly one of text, typed or blocks, named at the second one", async () => {
    expect(
      await scenarioErrors(`steps:
  - slack.post: { user: bob, channel: "#dev-platform", text: "a &lt; b", typed: "a < b" }
`),
    ).toBe(
      '<dir>/scenarios/case.yaml:10:74: steps[0].slack.post.typed: "text" and "typed" cannot be combined (hint: give exactly one of "text", "typed" or "blocks")',
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

describe("portal lifecycle steps: wrong names get file:line:column, field and hint", () => {
  const USERS = "(hint: users in the slack: seed: bob, carol)";
  const CHANNELS = '(hint: did you mean "#dev-platform"?)';
  // One step per line; `bad` is the wrong value as written, `field` where the validator reports it.
  const cases: { step: string; bad: string; field: string; message: string }[] = [
    {
      step: "slack.create_channel: { user: dave, name: ops }",
      bad: "dave",
      field: "slack.create_channel.user",
      message: `unknown Slack user "dave" ${USERS}`,
    },
    {
      step: "slack.create_channel: { user: bob, name: ops, members: [carol, dave] }",
      bad: "dave",
      field: "slack.create_channel.members[1]",
      message: `unknown Slack user "dave" ${USERS}`,
    },
    {
      step: 'slack.rename_channel: { user: bob, channel: "#dev-plaform", name: ops }',
      bad: '"#dev-plaform"',
      field: "slack.rename_channel.channel",
      message: `unknown Slack channel "#dev-plaform" ${CHANNELS}`,
    },
    {
      step: 'slack.set_topic: { user: bob, channel: "#dev-plaform", topic: t }',
      bad: '"#dev-plaform"',
      field: "slack.set_topic.channel",
      message: `unknown Slack channel "#dev-plaform" ${CHANNELS}`,
    },
    {
      step: 'slack.set_purpose: { user: dave, channel: "#dev-platform", purpose: p }',
      bad: "dave",
      field: "slack.set_purpose.user",
      message: `unknown Slack user "dave" ${USERS}`,
    },
    {
      step: 'slack.archive_channel: { user: bob, channel: "#dev-plaform" }',
      bad: '"#dev-plaform"',
      field: "slack.archive_channel.channel",
      message: `unknown Slack channel "#dev-plaform" ${CHANNELS}`,
    },
    {
      step: 'slack.unarchive_channel: { user: bob, channel: "#dev-plaform" }',
      bad: '"#dev-plaform"',
      field: "slack.unarchive_channel.channel",
      message: `unknown Slack channel "#dev-plaform" ${CHANNELS}`,
    },
    {
      step: 'slack.join: { user: dave, channel: "#dev-platform" }',
      bad: "dave",
      field: "slack.join.user",
      message: `unknown Slack user "dave" ${USERS}`,
    },
    {
      step: 'slack.leave: { user: bob, channel: "#dev-plaform" }',
      bad: '"#dev-plaform"',
      field: "slack.leave.channel",
      message: `unknown Slack channel "#dev-plaform" ${CHANNELS}`,
    },
    {
      step: 'slack.invite: { user: bob, channel: "#dev-platform", users: ["@bot", dave] }',
      bad: "dave",
      field: "slack.invite.users[1]",
      message: `unknown Slack user "dave" ${USERS}`,
    },
    {
      step: 'slack.kick: { user: bob, channel: "#dev-platform", target: dave }',
      bad: "dave",
      field: "slack.kick.target",
      message: `unknown Slack user "dave" ${USERS}`,
    },
    {
      step: 'slack.update_profile: { user: dave, channel: "#dev-platform", display_name: D }',
      bad: "dave",
      field: "slack.update_profile.user",
      message: `unknown Slack user "dave" ${USERS}`,
    },
    {
      step: 'slack.deactivate_user: { user: bob, channel: "#dev-plaform" }',
      bad: '"#dev-plaform"',
      field: "slack.deactivate_user.channel",
      message: `unknown Slack channel "#dev-plaform" ${CHANNELS}`,
    },
    {
      step: "slack.open_dm: { user: bob, with: [dave], name: group }",
      bad: "dave",
      field: "slack.open_dm.with[0]",
      message: `unknown Slack user "dave" ${USERS}`,
    },
    {
      step: "matrix.start_dm: { user: bob, with: [carol], name: dm }",
      bad: "bob",
      field: "matrix.start_dm.user",
      message: 'unknown Matrix user "bob" (hint: declared in matrix.users: alice)',
    },
    {
      step: "matrix.start_dm: { user: alice, with: [dave], name: dm }",
      bad: "dave",
      field: "matrix.start_dm.with[0]",
      message: `unknown Slack user "dave" ${USERS}`,
    },
    {
      step: 'matrix.set_room_name: { user: alice, channel: "#dev-plaform", name: x }',
      bad: '"#dev-plaform"',
      field: "matrix.set_room_name.channel",
      message: `unknown Slack channel "#dev-plaform" ${CHANNELS}`,
    },
    {
      step: 'matrix.set_topic: { user: alice, channel: "#dev-plaform", topic: x }',
      bad: '"#dev-plaform"',
      field: "matrix.set_topic.channel",
      message: `unknown Slack channel "#dev-plaform" ${CHANNELS}`,
    },
    {
      step: 'matrix.leave: { user: alice, channel: "#dev-plaform" }',
      bad: '"#dev-plaform"',
      field: "matrix.leave.channel",
      message: `unknown Slack channel "#dev-plaform" ${CHANNELS}`,
    },
    {
      step: 'matrix.kick: { user: alice, channel: "#dev-platform", target: dave }',
      bad: "dave",
      field: "matrix.kick.target",
      message: `unknown Slack user "dave" ${USERS}`,
    },
    {
      step: 'expect.portal: { channel: "#dev-platform", absent: [dave] }',
      bad: "dave",
      field: "expect.portal.absent[0]",
      message: `unknown Slack user "dave" ${USERS}`,
    },
    {
      step: 'expect.portal: { channel: "#dev-platform", ghost_avatars: { dave: true } }',
      bad: "dave",
      field: "expect.portal.ghost_avatars.dave",
      message: `unknown Slack user "dave" ${USERS}`,
    },
    {
      step: 'slack.post: { user: bob, channel: "#dev-platform", text: hi, bridged: no }',
      bad: "no",
      field: "slack.post.bridged",
      message: 'expected true or false, got "no" (hint: write true or false without quotes)',
    },
  ];
  for (const c of cases)
    it(c.field, async () => {
      const column = c.step.indexOf(c.bad) + 5; // after "  - "
      expect(await scenarioErrors(`steps:\n  - ${c.step}\n`)).toBe(
        `<dir>/scenarios/case.yaml:10:${column}: steps[0].${c.field}: ${c.message}`,
      );
    });

  it("expect.slack_call needs a method and a count as counts are written", async () => {
    expect(
      await scenarioErrors(`steps:
  - expect.slack_call: { params: { users: "@bob" }, count: some }
`),
    ).toBe(
      [
        `<dir>/scenarios/case.yaml:10:24: steps[0].expect.slack_call.method: required field missing (hint: add "method:" (Web API method ("conversations.open")))`,
        `<dir>/scenarios/case.yaml:10:60: steps[0].expect.slack_call.count: expected a number or a mapping with min/max, got "some" (hint: write an exact count (3) or a range ({ min: 1 }))`,
      ].join("\n"),
    );
  });

  it("names, expectations and windows are checked", async () => {
    expect(
      await scenarioErrors(`steps:
  - slack.create_channel: { user: bob, name: "#ops", expect: not_bridge }
  - slack.set_topic: { user: bob, channel: "#dev-platform", topic: t, window: soon }
  - matrix.set_room_name: { user: alice, channel: "#dev-platform", name: x, expect: rejected }
`),
    ).toBe(
      [
        `<dir>/scenarios/case.yaml:10:46: steps[0].slack.create_channel.name: "#ops" is not a Slack channel name: lower-case letters, digits, - and _ (no #)`,
        `<dir>/scenarios/case.yaml:10:62: steps[0].slack.create_channel.expect: expected one of "bridged" or "not_bridged", got "not_bridge" (hint: did you mean "not_bridged"?)`,
        `<dir>/scenarios/case.yaml:11:79: steps[1].slack.set_topic.window: expected a duration like "5s" or "500ms", got "soon" (hint: use ms, s, m or h: "500ms", "5s", "2m", or a number of milliseconds)`,
        `<dir>/scenarios/case.yaml:12:85: steps[2].matrix.set_room_name.expect: expected one of "bridged", "not_bridged" or "refused", got "rejected"`,
      ].join("\n"),
    );
  });

  it("channels and DMs created by earlier steps are valid names later, not before, and not twice", async () => {
    expect(
      await scenarioErrors(`steps:
  - slack.post: { user: bob, channel: "#ops", text: too early }
  - slack.create_channel: { user: bob, name: ops, members: ["@bot"] }
  - slack.open_dm: { user: bob, name: bob-dm }
  - slack.post: { user: bob, channel: "#ops", text: fine }
  - slack.post: { user: bob, channel: bob-dm, text: fine, new_portal: true }
  - slack.open_dm: { user: carol, name: ops }
  - matrix.start_dm: { user: alice, with: [carol], name: dev-platform }
  - slack.post: { user: bob, channel: "#opps", text: typo }
`),
    ).toBe(
      [
        `<dir>/scenarios/case.yaml:10:39: steps[0].slack.post.channel: unknown Slack channel "#ops" (hint: channels in the slack: seed: #dev-platform)`,
        `<dir>/scenarios/case.yaml:15:41: steps[5].slack.open_dm.name: "ops" already names a conversation (in steps[1] on line 11) (hint: choose a name no channel or DM of the scenario has)`,
        `<dir>/scenarios/case.yaml:16:58: steps[6].matrix.start_dm.name: "dev-platform" already names a conversation (in the slack: seed) (hint: choose a name no channel or DM of the scenario has)`,
        `<dir>/scenarios/case.yaml:17:39: steps[7].slack.post.channel: unknown Slack channel "#opps" (hint: did you mean "#ops"?)`,
      ].join("\n"),
    );
  });
});
