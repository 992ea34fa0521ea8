/** Numbers as the tool prints them (terminal lines, progress). */

/** Human-readable number for summaries. */
export function fmt(v: number, digits = 4): string {
  return Number.isFinite(v) ? Number(v.toPrecision(digits)).toString() : String(v);
}
