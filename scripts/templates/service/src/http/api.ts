/** starter-kit's API as documented: served as /openapi.json and written by `npm run docs`. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ServiceApi } from '@puhui/service';
import { STARTER_KIT_OPERATIONS } from './routes';

const manifest = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
  version: string;
  description: string;
};

export const starterKitApi: ServiceApi = {
  title: 'Puhui starter-kit',
  version: manifest.version,
  description: manifest.description,
  tags: [],
  operations: STARTER_KIT_OPERATIONS,
};
