// The homeserver drivers by kind (environments/*.yaml: homeserver.kind).
import type { HomeserverDriver, HomeserverKind } from "./api.ts";
import { conduwuitDriver } from "./conduwuit/driver.ts";
import { synapseDriver } from "./synapse/driver.ts";

export function homeserverDriver(kind: HomeserverKind): HomeserverDriver {
  switch (kind) {
    case "synapse":
      return synapseDriver;
    case "continuwuity":
    case "tuwunel":
      return conduwuitDriver(kind);
  }
}
