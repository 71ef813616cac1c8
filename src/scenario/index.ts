// Public surface of the scenario layer: typed steps, the Scenario driver and the runner.

export { checkScenarioFile, loadScenario } from "../config/scenario.ts";
export type {
  RunProgress,
  RunScenariosOptions,
  RunScenariosOutcome,
  ScenarioGroup,
  ScenarioOptions,
} from "./runner.ts";
export {
  groupScenarios,
  runScenarioIn,
  runScenarios,
  Scenario,
  StepFailure,
  stopActiveEnvironments,
} from "./runner.ts";
export type { Step, StepOptions } from "./steps.ts";
export { describeStep, steps } from "./steps.ts";
