/**
 * A recording's CSV: the header train expects, read back by the project's
 * CSV reader; whole rows only; no file without a row; never an existing
 * recording replaced unasked.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkLabel, checkRecordingPath, recordingHeader, RecordingFile } from '../../data/recording-csv.ts';
import { readCsvColumns } from '../../data/csv.ts';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lstm-mcu-recording-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('a recording as CSV', () => {
  it('time, the readings and the label, read back by the CSV reader as written', async () => {
    const file = path.join(dir, 'labelled.csv');
    const header = recordingHeader(['ax', 'a "quoted", name'], true);
    expect(header).toEqual(['time', 'ax', 'a "quoted", name', 'label']);
    const rec = new RecordingFile(file, header, 'wave, fast', false);
    expect(fs.existsSync(file)).toBe(false);
    rec.append(1_796_506_809_665, [0.19866933079, -2e-7]);
    expect(fs.readFileSync(file, 'utf8')).toBe('time,ax,"a ""quoted"", name",label\n1796506809.665,0.19866933079,-2e-7,"wave, fast"\n');
    rec.append(1_796_506_809_715, [1, 2]);
    rec.close();
    expect(rec.rows).toBe(2);
    const t = await readCsvColumns(file, header, { categorical: ['label'] });
    expect(t.rows).toBe(2);
    expect(Array.from(t.columns.time!)).toEqual([1796506809.665, 1796506809.715]);
    expect(Array.from(t.columns['a "quoted", name']!)).toEqual([-2e-7, 2]);
    expect(t.categories).toEqual({ label: ['wave, fast'] });
  });

  it('no row, no file', () => {
    const file = path.join(dir, 'empty.csv');
    new RecordingFile(file, recordingHeader(['x'], false), undefined, false).close();
    expect(fs.existsSync(file)).toBe(false);
  });

  it('an existing recording is replaced only with --overwrite', () => {
    const file = path.join(dir, 'old.csv');
    fs.writeFileSync(file, 'time,x\n1,2\n');
    expect(() => checkRecordingPath(file, false)).toThrow(/^--out .*old\.csv: the file exists; pass --overwrite to replace it/);
    expect(() => checkRecordingPath(dir, true)).toThrow(/is a folder/);
    expect(() => checkRecordingPath(path.join(dir, 'no', 'x.csv'), true)).toThrow(/no folder/);
    checkRecordingPath(file, true);
    // refused at the first row too, if the file appeared meanwhile
    const rec = new RecordingFile(file, ['time', 'x'], undefined, false);
    expect(() => rec.append(0, [1])).toThrow(/^cannot write .*old\.csv: EEXIST$/);
    const again = new RecordingFile(file, ['time', 'x'], undefined, true);
    again.append(5000, [3]);
    again.close();
    expect(fs.readFileSync(file, 'utf8')).toBe('time,x\n5.000,3\n');
  });

  it.runIf(fs.existsSync('/dev/full'))('a write that fails (a full disk) is one line', () => {
    const rec = new RecordingFile('/dev/full', ['time', 'x'], undefined, true);
    expect(() => rec.append(0, [1])).toThrow(/^cannot write \/dev\/full: ENOSPC$/);
  });

  it('names and labels that would not read back are refused in one line', () => {
    expect(() => recordingHeader(['x', 'time'], false)).toThrow(/^--columns: 'time' names two columns/);
    expect(() => recordingHeader(['label'], true)).toThrow(/'label' names two columns/);
    expect(() => recordingHeader(['a', 'a'], false)).toThrow(/'a' names two columns/);
    expect(() => recordingHeader([' a'], false)).toThrow(/no spaces at its start or end/);
    expect(() => checkLabel('NA')).toThrow(/^--label 'NA': the CSV reader takes it as a missing value/);
    expect(() => checkLabel('')).toThrow(/missing value/);
    expect(() => checkLabel('a\nb')).toThrow(/no line ends or control characters/);
    expect(() => checkLabel('wave')).not.toThrow();
  });
});
