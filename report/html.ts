/**
 * The report page: one self-contained HTML file (inline SVG and CSS, no
 * script, nothing loaded), opened by a double click. The command's printed
 * lines on top, then each section's charts or the line saying why it is left
 * out.
 */
import { specToSvg } from './render.ts';
import { SECTIONS, type Section, type SectionMissing, type SectionView } from './sections.ts';
import type { ReportRun } from './run.ts';

/** The report's file name, beside the run's artifacts. */
export const REPORT_FILE = 'report.html';

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const STYLE = `
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 980px; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 2em; border-bottom: 1px solid #ddd; }
pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; font-size: 0.8em; }
.chart { margin: 1em 0; } .chart svg { max-width: 100%; height: auto; } .missing { color: #666; font-style: italic; }
`;

/** The page of a run, each section rendered in order. */
export async function reportHtml(run: ReportRun, sections: readonly Section[] = SECTIONS): Promise<string> {
  return pageHtml(
    `lstm-mcu ${run.command}: report`,
    run.lines,
    sections.map((section) => section(run)),
  );
}

/** A page: its title, the command's printed lines, then each section's charts or why it is left out. */
export async function pageHtml(title: string, lines: string[], views: (SectionView | SectionMissing)[]): Promise<string> {
  const parts: string[] = [];
  for (const view of views) {
    parts.push(`<section><h2>${escapeHtml(view.title)}</h2>`);
    if ('missing' in view) parts.push(`<p class="missing">Left out: ${escapeHtml(view.missing)}.</p>`);
    else {
      for (const note of view.notes ?? []) parts.push(`<p>${escapeHtml(note)}</p>`);
      for (const spec of view.charts) parts.push(`<div class="chart">${await specToSvg(spec)}</div>`);
    }
    parts.push('</section>');
  }
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
    // No favicon request: the page loads nothing.
    '<link rel="icon" href="data:,">',
    `<title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body>`,
    `<h1>${escapeHtml(title)}</h1>`,
    `<pre>${escapeHtml(lines.join('\n'))}</pre>`,
    ...parts,
    '</body></html>',
    '',
  ].join('\n');
}
