/**
 * The committed Grafana dashboard held against Grafana 10's own dashboard type
 * (`@grafana/schema` 10.4, generated from Grafana's CUE schema): the workspace's typecheck, and
 * dashboard.test.ts through `tsc` on this file alone, fail when the JSON leaves the schema (a
 * field of the wrong type or a missing required one, a panel without its grid position, a
 * variable of another shape). A JSON import widens every string to `string`, so the schema's
 * enums and literal unions are widened too (`Widened`); dashboard.test.ts checks those values
 * against the enums at run time.
 */
import type { Dashboard } from '@grafana/schema';
import dashboard from '../../../../infra/grafana/puhui-overview.json';

/** The type with every string enum or literal as `string` (and number, boolean likewise). */
export type Widened<T> = T extends string
  ? string
  : T extends number
    ? number
    : T extends boolean
      ? boolean
      : T extends readonly (infer Item)[]
        ? Widened<Item>[]
        : T extends object
          ? { [Key in keyof T]: Widened<T[Key]> }
          : T;

export const typedDashboard: Widened<Dashboard> = dashboard;
