/**
 * report.html beside a command's artifacts (report/): `--board`, the board
 * the report holds the model's memory against, and the file itself, written
 * with the command's other files (all of them or none).
 */
import path from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { parseBoard, type Board } from '../codegen/boards.ts';
import { UserError } from '../core/errors.ts';
import { REPORT_FILE, reportHtml } from '../report/html.ts';
import type { ReportRun } from '../report/run.ts';

/** The board the report holds the model against unless --board says otherwise. */
export const DEFAULT_REPORT_BOARD = 'puckjs';

function boardOption(value: string): Board {
  try {
    return parseBoard(value);
  } catch (err) {
    if (err instanceof UserError) throw new InvalidArgumentError(err.message.replace(/^--board [^:]*: /, '') + '.');
    throw err;
  }
}

export function addBoardOption(cmd: Command): Command {
  return cmd.addOption(
    new Option('--board <name>', `the board ${REPORT_FILE} holds the model's memory against (puckjs, banglejs2, ..., jerryscript[:KiB])`)
      .argParser(boardOption)
      .default(parseBoard(DEFAULT_REPORT_BOARD), DEFAULT_REPORT_BOARD),
  );
}

/** report.html in `dir`, for writeFilesAtomic. */
export async function reportFile(dir: string, run: ReportRun): Promise<{ path: string; data: string }> {
  return { path: path.join(dir, REPORT_FILE), data: await reportHtml(run) };
}
