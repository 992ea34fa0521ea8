/**
 * A Vega-Lite spec to SVG text, in Node: compiled to Vega, run in a headless
 * view (`renderer: 'none'`) and serialized with view.toSVG(). The page then
 * needs no script. Vega is loaded on first use: the CLI starts without it.
 */
import type { TopLevelSpec } from 'vega-lite';

export async function specToSvg(spec: TopLevelSpec): Promise<string> {
  const [vegaLite, vega] = await Promise.all([import('vega-lite'), import('vega')]);
  const compiled = vegaLite.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
