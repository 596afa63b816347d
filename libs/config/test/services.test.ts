import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SERVICES, SERVICE_NAMES, defaultPort, defaultUrl, serviceByName, urlVariable } from '@puhui/config';

const REPOSITORY_ROOT = path.join(__dirname, '..', '..', '..');

describe('the registry of services', () => {
  it('names each service once, on a port of its own', () => {
    expect(new Set(SERVICE_NAMES).size).toBe(SERVICES.length);
    expect(new Set(SERVICES.map((service) => service.port)).size).toBe(SERVICES.length);
    for (const service of SERVICES) expect(service.name).toMatch(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/u);
  });

  it('names the package in services/<name>', () => {
    for (const service of SERVICES) {
      const manifest = JSON.parse(
        readFileSync(path.join(REPOSITORY_ROOT, 'services', service.name, 'package.json'), 'utf8'),
      ) as { name: string };
      expect(manifest.name).toBe(service.package);
    }
  });

  it('gives each service its default URL and the variable other services find it by', () => {
    const rules = serviceByName('discount-rules');
    expect(defaultPort('discount-rules')).toBe(rules.port);
    expect(defaultUrl('discount-rules')).toBe(`http://127.0.0.1:${rules.port}`);
    expect(urlVariable('discount-rules')).toBe('DISCOUNT_RULES_URL');
  });

  it('is frozen', () => {
    expect(Object.isFrozen(SERVICES)).toBe(true);
    expect(Object.isFrozen(SERVICES[0])).toBe(true);
  });
});
