// What every service builder shares: the run's network and the service's alias on it, the run's
// labels, and the log file its container output goes to.
import type { StartedNetwork } from "testcontainers";
import type { ServiceLog } from "../runtime/logs.ts";

export abstract class ServiceBuilder {
  protected network?: StartedNetwork;
  protected alias: string;
  protected labels: Record<string, string> = {};
  protected log?: ServiceLog;

  constructor(defaultAlias: string) {
    this.alias = defaultAlias;
  }

  withNetwork(network: StartedNetwork, alias = this.alias): this {
    this.network = network;
    this.alias = alias;
    return this;
  }

  withLabels(labels: Record<string, string>): this {
    this.labels = { ...this.labels, ...labels };
    return this;
  }

  withLog(log: ServiceLog): this {
    this.log = log;
    return this;
  }
}
