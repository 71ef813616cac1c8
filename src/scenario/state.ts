// What a scenario run knows while its steps execute: the environment, the Matrix users, the portal
// rooms, the messages earlier steps posted (by step id) and the reactions they added.
import type { MatrixUser, StartedEnvironment } from "../environment/api.ts";
import type { AvailabilityResult, FaultWindow } from "../report/model.ts";
import { now, waitUntil } from "../util/clock.ts";

export interface MessageRef {
  stepId: string;
  channelId: string;
  /** Slack ts of the message. */
  ts: string;
  roomId: string;
  /** Matrix event ID of the message. */
  eventId: string;
}

/** State that lives as long as the environment (shared by scenarios run in one environment). */
export interface EnvironmentSession {
  users: Map<string, Promise<MatrixUser>>;
  portals: Map<string, string>;
  loggedIn: string[];
}

const sessions = new WeakMap<StartedEnvironment, EnvironmentSession>();

export function sessionOf(env: StartedEnvironment): EnvironmentSession {
  let s = sessions.get(env);
  if (!s) {
    s = { users: new Map(), portals: new Map(), loggedIn: [] };
    sessions.set(env, s);
  }
  return s;
}

export interface ScenarioBudgets {
  slackToMatrixMs: number;
  matrixToSlackMs: number;
}

export class ScenarioState {
  readonly env: StartedEnvironment;
  readonly session: EnvironmentSession;
  readonly matrixUsers: string[];
  readonly budgets: ScenarioBudgets;
  /** Base folder for relative file paths in steps. */
  readonly baseDir: string;
  /** The environment file the scenario runs in (what the `check` step checks), when known. */
  readonly environmentFile?: string;
  readonly messages = new Map<string, MessageRef>();
  /** `${side}|${user}|${messageStepId}|${emoji}` -> reaction event ID. */
  readonly reactions = new Map<string, string>();
  /** Service -> number of log lines before this scenario's first step (logs are scoped to the scenario). */
  readonly logMarks = new Map<string, number>();
  /** When the scenario began: calls and events before it belong to other scenarios of the environment. */
  readonly startedAt = now();
  /** DMs and group DMs earlier steps opened, by the name the scenario gave them -> conversation ID. */
  readonly conversations = new Map<string, string>();
  /** Faults injected so far (src/faults/): latency samples overlapping one are reported apart. */
  readonly faultWindows: FaultWindow[] = [];
  /** Set by expect.availability. */
  availability?: AvailabilityResult;
  /** Work a step left running in the background (probes), stopped when the scenario finishes. */
  readonly background = new Set<{ stop(): void }>();

  constructor(
    env: StartedEnvironment,
    opts: {
      matrixUsers?: string[];
      budgets?: Partial<ScenarioBudgets>;
      baseDir?: string;
      environmentFile?: string;
    },
  ) {
    this.env = env;
    this.session = sessionOf(env);
    this.matrixUsers = opts.matrixUsers ?? [];
    this.budgets = { slackToMatrixMs: 5000, matrixToSlackMs: 5000, ...opts.budgets };
    this.baseDir = opts.baseDir ?? process.cwd();
    this.environmentFile = opts.environmentFile;
  }

  user(localpart: string): Promise<MatrixUser> {
    let p = this.session.users.get(localpart);
    if (!p) {
      p = this.env.user(localpart);
      this.session.users.set(localpart, p);
      p.catch(() => this.session.users.delete(localpart));
    }
    return p;
  }

  /** The observing Matrix user: explicit, else the first of matrix.users, else the first logged-in user. */
  observer(name?: string): string {
    const u = name ?? this.matrixUsers[0] ?? this.session.loggedIn[0];
    if (!u) throw new Error("no Matrix user to observe with: declare one under matrix.users");
    return u;
  }

  get workspace() {
    return this.env.fakeSlack.workspace;
  }

  get control() {
    return this.env.fakeSlack.control;
  }

  slackUserId(ref: string): string {
    return this.workspace.resolveUser(ref.replace(/^@/, ""));
  }

  /** Who posts as `ref`: a person (or app bot user), or an integration seeded under bots: (its B… ID). */
  slackAuthor(ref: string): { id: string; as: { user: string } | { bot: string } } {
    const bot = this.workspace.bots.find((b) => b.name === ref || b.id === ref);
    if (bot) return { id: bot.id, as: { bot: bot.id } };
    const id = this.slackUserId(ref);
    return { id, as: { user: id } };
  }

  channelId(ref: string): string {
    return this.conversations.get(ref) ?? this.workspace.resolveChannel(ref.replace(/^#/, ""));
  }

  /** The portal room of a conversation per the bridge database, if the bridge created one. */
  async portalMxid(channelId: string): Promise<string | undefined> {
    const rows = await this.env.postgres.query<{ mxid: string | null }>(
      "mautrix_slack",
      "SELECT mxid FROM portal WHERE id = $1 AND mxid IS NOT NULL",
      [`${this.workspace.teamId}-${channelId}`],
    );
    return rows[0]?.mxid ?? undefined;
  }

  /** After the user left a portal (or was removed), the next portalRoom() waits for a new invite. */
  forgetPortal(channelId: string, localpart: string): void {
    this.session.portals.delete(`${channelId}|${localpart}`);
  }

  /** Matrix ID of a Slack user's ghost: @slack_<team>-<user>:<server> (lower case). */
  ghostMxid(slackUserId: string): string {
    const team = this.workspace.teamId.toLowerCase();
    return `@slack_${team}-${slackUserId.toLowerCase()}:${this.env.homeserver.serverName}`;
  }

  /** Replaces `<@name>` with Slack's `<@U…>` mention. */
  slackMentions(text: string): string {
    return text.replace(/<@([a-z0-9][a-z0-9._-]*)>/g, (all, name: string) => {
      try {
        return `<@${this.slackUserId(name)}>`;
      } catch {
        return all;
      }
    });
  }

  /** Replaces `<@name>` with a Matrix pill for the Slack user's ghost. */
  matrixMentions(html: string): string {
    return html.replace(/<@([a-z0-9][a-z0-9._-]*)>/g, (all, name: string) => {
      try {
        const id = this.slackUserId(name);
        const info = this.workspace.users.find((u) => u.id === id);
        const mxid = this.ghostMxid(id);
        return `<a href="https://matrix.to/#/${mxid}">${info?.displayName || info?.realName || name}</a>`;
      } catch {
        return all;
      }
    });
  }

  /** Portal room of a channel: from the bridge database, then joined by the Matrix user. */
  async portalRoom(channelRef: string, localpart: string, timeoutMs: number): Promise<string> {
    const channelId = this.channelId(channelRef);
    const key = `${channelId}|${localpart}`;
    const known = this.session.portals.get(key);
    if (known) return known;
    const portalId = `${this.workspace.teamId}-${channelId}`;
    const roomId = await waitUntil(() => this.portalMxid(channelId), {
      timeoutMs,
      intervalMs: 200,
      describe: () => `the bridge to create the portal room for ${channelRef} (portal ${portalId})`,
    });
    const user = await this.user(localpart);
    await user.waitForRoom((r) => r.roomId === roomId, {
      timeoutMs,
      describe: `${localpart} to be invited to the portal of ${channelRef} (${roomId})`,
    });
    await user.joinRoom(roomId);
    this.session.portals.set(key, roomId);
    return roomId;
  }

  /** The fault step whose window the interval [startAt, endAt] overlaps (an open window reaches to now and beyond). */
  faultOverlapping(startAt: number, endAt: number): string | undefined {
    return this.faultWindows.find(
      (w) => endAt >= w.startAt && startAt <= (w.recoveredAt ?? w.endAt ?? Number.POSITIVE_INFINITY),
    )?.stepId;
  }

  message(stepId: string): MessageRef {
    const m = this.messages.get(stepId);
    if (!m) throw new Error(`step "${stepId}" did not record a message (did it fail?)`);
    return m;
  }
}
