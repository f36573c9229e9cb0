/**
 * How many scenarios `faultline plan` details by default, apart from the planner: the CLI shows
 * it in `--help` without loading the planner (the architecture schema, yaml, the catalogue).
 */
export const DEFAULT_TOP = 10;
