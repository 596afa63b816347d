import type { z } from 'zod';
import { defaultPort, loadConfig } from '@puhui/config';
import { serviceEnvironment } from '@puhui/service';

/** Its port is the registry's (libs/config/src/services.json); add its own settings with `.extend`. */
export const starterKitEnvironment = serviceEnvironment({
  port: defaultPort('starter-kit'),
  databaseName: 'puhui_starter_kit',
});
export type StarterKitConfig = z.infer<typeof starterKitEnvironment>;

export function loadStarterKitConfig(
  environment: Record<string, string | undefined> = process.env,
): StarterKitConfig {
  return loadConfig(starterKitEnvironment, environment);
}
