import { describe, expect, it } from "vitest";
import {
  defaultSeed,
  loadSeed,
  parseSeedYaml,
  SeedError,
  validateSeed,
} from "../../fakes/slack/seed/index.ts";

function errorsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof SeedError) return e.lines;
    throw e;
  }
  throw new Error("expected a SeedError");
}

describe("seed validation", () => {
  it("names file, line, column and field for every problem", () => {
    const text = `name: demo
slack:
  team: { name: chochacho, domain: Cho_Cho }
  users:
    - name: alice
    - name: alice
    - { name: bob, colour: blue }
  channels:
    - name: dev-platform
      members: [alice, "@bot", zed]
    - private: yes
  messages:
    - { channel: nowhere, user: alice, text: hi, thread: nope }
`;
    expect(errorsOf(() => parseSeedYaml(text, "scenarios/demo.yaml"))).toEqual([
      `scenarios/demo.yaml:3:36: slack.team.domain: "Cho_Cho" must be lowercase letters, digits and '-' (hint: e.g. domain: chochacho)`,
      `scenarios/demo.yaml:6:13: slack.users[1].name: duplicate user name "alice"`,
      `scenarios/demo.yaml:7:20: slack.users[2].colour: unknown field "colour" (hint: allowed fields: name, id, real_name, display_name, email, tz, avatar, admin, owner, deleted)`,
      `scenarios/demo.yaml:10:32: slack.channels[0].members[2]: unknown user "zed" (hint: known: alice, bob, @bot, @mautrix-slack)`,
      `scenarios/demo.yaml:11:7: slack.channels[1].name: is required (hint: e.g. name: dev-platform)`,
      `scenarios/demo.yaml:11:16: slack.channels[1].private: must be true or false, got string "yes"`,
      `scenarios/demo.yaml:13:18: slack.messages[0].channel: unknown channel "nowhere" (hint: known: dev-platform)`,
      'scenarios/demo.yaml:13:58: slack.messages[0].thread: no earlier message has id "nope" (hint: give the thread root `id: <label>` and refer to it here)',
    ]);
  });

  it("reports YAML syntax errors with a position", () => {
    const lines = errorsOf(() => parseSeedYaml("slack:\n  users: [alice\n", "x.yaml"));
    expect(lines[0]).toMatch(/^x\.yaml:3:1: \(yaml\): /);
  });

  it("a standalone seed file is the seed itself", () => {
    const seed = parseSeedYaml(
      "users: [alice]\nchannels:\n  - { name: general, members: [alice, '@bot'] }\n",
      "seed.yaml",
    );
    expect(seed.channels?.[0]?.name).toBe("general");
    expect(errorsOf(() => parseSeedYaml("users: 3\n", "seed.yaml"))).toEqual([
      "seed.yaml:1:8: users: must be a list, got number 3",
    ]);
  });

  it("validateSeed returns issues with paths (for the scenario loader)", () => {
    expect(validateSeed({ users: [{ real_name: "X" }] })).toEqual([
      { path: ["users", 0, "name"], message: "is required", hint: "e.g. name: alice" },
    ]);
    expect(validateSeed("nope")).toEqual([
      {
        path: [],
        message: 'the slack seed must be a mapping, got string "nope"',
        hint: "e.g. slack: { users: [alice], channels: [{ name: general }] }",
      },
    ]);
    expect(validateSeed(defaultSeed)).toEqual([]);
    expect(validateSeed(undefined)).toEqual([]);
  });

  it("objects are validated too, without positions", () => {
    expect(errorsOf(() => loadSeed({ emoji: { parrot: 3 } }))).toEqual([
      '(seed): slack.emoji.parrot: must be an image URL, "alias:<name>" or true (a generated image), got number 3',
    ]);
    expect(loadSeed(undefined)).toBe(defaultSeed);
  });

  it("dms need 2 to 9 known members; reactions need users", () => {
    const issues = validateSeed({
      users: ["alice"],
      dms: [{ members: ["alice"] }],
      channels: [{ name: "c" }],
      messages: [{ channel: "c", user: "alice", text: "x", reactions: [{ name: "tada", users: [] }] }],
    });
    expect(issues.map((i) => `${i.path.join(".")}: ${i.message}`)).toEqual([
      "dms.0.members: needs 2 to 9 members, got 1",
      "messages.0.reactions.0.users: needs at least one user",
    ]);
  });
});
