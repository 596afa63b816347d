/** The one error a configuration problem throws: every problem at once, each naming its variable, never its value. */
export class ConfigError extends Error {
  readonly code = 'invalid_configuration';
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
  }
}
