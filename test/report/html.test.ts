/**
 * The specs carry the gathered values, and the page is self-contained: an
 * inline SVG per chart, a one-line note for each section left out, no script
 * and nothing to load; a new section is one more function in the list.
 */
import { describe, expect, it } from 'vitest';
import { confusionData, forecastData, isMissing, lossData } from '../../report/gather.ts';
import { errorData, memoryData, rangeData } from '../../report/gather-device.ts';
import { confusionSpec, errorHistogramSpec, errorLineSpec, forecastSpec, lossSpec, memorySpec, rangeSpec } from '../../report/specs.ts';
import { reportHtml } from '../../report/html.ts';
import { SECTIONS, type Section } from '../../report/sections.ts';
import { classificationRun, regressionRun, windowClassifierRun } from './fixtures.ts';

const values = (spec: object) => (spec as { data: { values: unknown[] } }).data.values;
const svgCount = (html: string) => (html.match(/<svg /g) ?? []).length;

describe('the specs carry the gathered values', () => {
  const run = regressionRun(4000);

  it('forecasts: the thinned rows, the thinning in the title; the close-up every point', () => {
    const d = forecastData(run);
    if (isMissing(d)) throw new Error(d.missing);
    const spec = forecastSpec(d[0]!);
    expect(values(spec)).toBe(d[0]!.rows);
    expect(spec.title).toMatch(/every 2nd of [\d,]+ points drawn/);
    expect(values(forecastSpec(d[0]!, true))).toBe(d[0]!.closeUp);
  });

  it('errors, ranges, memory', () => {
    const e = errorData(run);
    expect(values(errorLineSpec(e))).toBe(e.rows);
    expect(values(errorHistogramSpec(e))).toBe(e.histogram);
    const r = rangeData(run);
    expect(values(rangeSpec(r))).toBe(r.rows);
    const m = memoryData(run);
    const bars = (memorySpec(m) as { layer: { data: { values: { bar: string; value: number }[] } }[] }).layer[0]!.data.values;
    const ram = m.budget.placements[0]!;
    expect(bars.filter((b) => b.bar === 'ram: loaded').reduce((a, b) => a + b.value, 0)).toBe(ram.total);
    expect(bars.find((b) => b.bar.startsWith('ram: while loading'))!.value).toBe(ram.peak);
  });

  it('losses and confusion matrices', () => {
    const w = windowClassifierRun();
    const l = lossData(w);
    const c = confusionData(w);
    if (isMissing(l) || isMissing(c)) throw new Error('expected data');
    expect((lossSpec(l) as { layer: { data: { values: unknown } }[] }).layer[0]!.data.values).toBe(l.rows);
    expect(values(confusionSpec(c, c.matrices[0]!))).toBe(c.matrices[0]!.cells);
  });
});

describe('the page', () => {
  it('a regression run: every chart as inline SVG, the confusion matrices left out with the reason, nothing to load', async () => {
    const run = regressionRun(4000, { history: { loss: [1, 0.5], valLoss: [1.1, 0.7], kept: 2 } });
    const started = performance.now();
    const html = await reportHtml(run);
    const seconds = (performance.now() - started) / 1000;
    // loss 1, forecasts 2 per target (2 targets), error 2, ranges 1, memory 2
    expect(svgCount(html)).toBe(1 + 4 + 2 + 1 + 2);
    expect(html).toContain('Left out: a regression model: no classes to confuse.');
    expect(html).not.toMatch(/<script|<img|<iframe|<link rel="stylesheet"|@import|url\(http/i);
    expect(html.match(/(?:src|href)="(?!data:|#)[^"]*"/g) ?? []).toEqual([]);
    expect(html).toContain('<pre>a train run</pre>');
    expect(seconds).toBeLessThan(20);
  });

  it('a run without history or series: the training section left out, the confusion matrices drawn', async () => {
    const html = await reportHtml(classificationRun());
    expect(html).toContain('Left out: no history in this test.');
    expect(html).toContain('Left out: a classifier: its forecasts are classes, in the confusion matrices.');
    expect(html).toMatch(/int8: accuracy [\d.]+% on the streamed test series/);
  });

  it('a new section is one more function in the list', async () => {
    const replay: Section = () => ({ title: 'Replay', missing: 'no recording was given' });
    const html = await reportHtml(regressionRun(200), [SECTIONS[0]!, replay]);
    expect(html).toContain('<h2>Replay</h2>');
    expect(html).toContain('Left out: no recording was given.');
    expect(svgCount(html)).toBe(0);
    expect(html).toContain('Left out: this run holds no training history.');
  });
});
