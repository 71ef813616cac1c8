// What Synapse is and can do, without loading the driver (validation and docs use it).
import type { HomeserverKindInfo } from "../api.ts";

export const SYNAPSE_INFO: HomeserverKindInfo = {
  kind: "synapse",
  configFormat: "yaml",
  appserviceRegistration: ["config", "none"],
  unsupportedRegistration:
    "Synapse reads appservice registrations only from the files listed in app_service_config_files: use appservice_registration: config",
  auth: ["mas"],
  state: "postgres",
};
