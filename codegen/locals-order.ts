/**
 * The order stepQ declares its locals in: the most read first. Espruino finds
 * a local by walking the function's list of them, so a name read in every unit
 * of a loop should come before one read once per step. Each reading of a name
 * weighs the product of the trip counts of the `for (x = a; x < b; x++)` loops
 * around it (1 outside any loop); ties keep the given order.
 */

/** [start, end) of each literal-bound loop (header and body, braced or one statement) in `code`, with its trip count. */
function loops(code: string): { start: number; end: number; trips: number }[] {
  const found: { start: number; end: number; trips: number }[] = [];
  for (const m of code.matchAll(/for \((\w+) = (\d+); \1 < (\d+); \1\+\+\) (\{)?/g)) {
    let i = m.index! + m[0].length;
    if (m[4]) {
      // a block: to its closing brace
      for (let depth = 1; depth > 0 && i < code.length; i++) {
        if (code[i] === '{') depth++;
        else if (code[i] === '}') depth--;
      }
    } else {
      // one statement: to its semicolon outside brackets
      for (let depth = 0; i < code.length && !(depth === 0 && code[i] === ';'); i++) {
        if ('([{'.includes(code[i])) depth++;
        else if (')]}'.includes(code[i])) depth--;
      }
    }
    found.push({ start: m.index!, end: i, trips: Math.max(1, Number(m[3]) - Number(m[2])) });
  }
  return found;
}

/** The names of `candidates` that `body` reads, the most read first. Comments must be stripped. */
export function localsByReads(body: string, candidates: readonly string[]): string[] {
  const bodyLoops = loops(body);
  const weight = (name: string): number => {
    let total = 0;
    for (const m of body.matchAll(new RegExp(`(^|[^\\w.])${name}(?=[^\\w]|$)`, 'g'))) {
      const at = m.index! + m[1].length;
      total += bodyLoops.filter((l) => l.start <= at && at < l.end).reduce((p, l) => p * l.trips, 1);
    }
    return total;
  };
  const weights = new Map(candidates.map((name) => [name, weight(name)]));
  return candidates
    .filter((name) => weights.get(name)! > 0)
    .sort((a, b) => weights.get(b)! - weights.get(a)! || candidates.indexOf(a) - candidates.indexOf(b));
}
