// Containers watched from creation: a start that ends with the container exiting fails at once with
// its exit code, and the output it wrote before testcontainers attached the log consumer (which only
// happens once ports are bound) still reaches the service log.
import "./docker-env.ts";
import { GenericContainer, type StartedTestContainer } from "testcontainers";
import { removeContainerQuietly } from "./cleanup.ts";
import { containerLogsText, containerState } from "./docker.ts";
import type { ServiceLog } from "./logs.ts";
import { ContainerExitedError, ExitWatch } from "./wait.ts";

export class WatchedContainer extends GenericContainer {
  readonly watch: ExitWatch;
  private consumerAttached = false;
  private serviceLog?: ServiceLog;

  constructor(image: string, watch = new ExitWatch(containerState)) {
    super(image);
    this.watch = watch;
  }

  protected override async containerCreated(containerId: string): Promise<void> {
    this.watch.created(containerId);
  }

  /** Like withLogConsumer(log.consumer), remembering whether the consumer got attached. */
  withServiceLog(log: ServiceLog): this {
    this.serviceLog = log;
    return this.withLogConsumer((stream) => {
      this.consumerAttached = true;
      log.attach(stream);
    });
  }

  /**
   * Starts; rejects with ContainerExitedError as soon as the container exits before it is ready.
   * On any failure the container is removed after its output was saved.
   */
  async startWatched(): Promise<StartedTestContainer> {
    const starting = this.start();
    try {
      const started = await Promise.race([
        starting,
        this.watch.exited.then((exit) => {
          throw exit;
        }),
      ]);
      this.watch.stop();
      return started;
    } catch (err) {
      this.watch.stop();
      starting.catch(() => undefined);
      const id = this.watch.containerId;
      let error = err;
      if (id) {
        const state = await containerState(id);
        if (
          !(error instanceof ContainerExitedError) &&
          state &&
          !state.running &&
          state.status !== "created"
        ) {
          error = new ContainerExitedError(state.exitCode, state.oomKilled);
        }
        if (!this.consumerAttached && this.serviceLog) {
          const text = await containerLogsText(id);
          for (const line of text.split(/\r?\n/)) if (line) this.serviceLog.write(line);
        }
        await removeContainerQuietly(id).catch(() => undefined);
      }
      throw error;
    }
  }
}
