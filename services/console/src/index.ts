/** What other workspaces may use of the console: the demo people (npm start, the browser suite). */
export { loadConsoleConfig } from './config';
export type { ConsoleConfig } from './config';
export { consoleService } from './service';
export { demoPassword, demoPeople, ensureDemoPeople } from './people/demo';
export type { DemoPerson } from './people/demo';
export { totpCode } from './domain/totp';
