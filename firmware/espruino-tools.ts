/**
 * espruino-tools (the `espruino` npm package) as this project uses it: the
 * upload processing of the Espruino Web IDE and CLI (modules as
 * Modules.addCached, Esprima minification) and its connections (serial
 * port, Bluetooth LE, tcp://host:port). The package keeps its state in the
 * global `Espruino` and logs through console; both are confined here: its
 * log lines are collected (shown with `verbose`), never mixed into ours.
 */
import { createRequire } from 'node:module';
import { UserError } from '../core/errors.ts';

// The package has no type declarations: the few members used here.
interface EspruinoGlobal {
  Config: Record<string, unknown>;
  addProcessor(name: string, fn: (data: any, callback: (data: any) => void) => void): void;
  callProcessor(name: string, data: unknown, callback: (data: any) => void): void;
  Core: {
    Env: { getData(): Record<string, any> };
    Serial: {
      startListening(fn: (data: ArrayBuffer) => void): unknown;
      open(port: string, opened: (status: unknown) => void, disconnected: () => void): void;
      close(): void;
      isConnected(): boolean;
      write(data: string, showStatus: boolean | undefined, callback?: () => void): void;
      /** The package's one connection object; its close() calls closeLowLevel(), which this version never defines. */
      connection?: { closeLowLevel?: () => void };
    };
    Utils: {
      executeExpression(
        expr: string,
        callback: (result: string | undefined) => void,
        options?: { maxTimeout?: number; minTimeout?: number },
      ): void;
      getUploadFileCode(name: string, contents: string): string;
    };
  };
}

/** What the package logged (console.log / info / warn / error), newest last. */
const toolLog: string[] = [];
let verbose = false;
let tools: EspruinoGlobal | undefined;
/** Modules the bundle provides itself (name -> source), looked up before any local folder or URL. */
const providedModules = new Map<string, string>();

export function setToolsVerbose(on: boolean): void {
  verbose = on;
}

/** The package's last log lines, for an error message. */
function recentToolLog(n = 5): string[] {
  return toolLog.slice(-n);
}

/** Operations in progress: while any is, console output goes to the tool log (the package logs from its timers too). */
let busy = 0;
let consoleRouted = false;

/** Watchers of the tool log: an open connection hears of the socket faults the package only logs. */
const logWatchers = new Set<(line: string) => void>();

function collect(...args: unknown[]): void {
  const line = args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ');
  for (const watch of logWatchers) watch(line);
  toolLog.push(line);
  if (toolLog.length > 2000) toolLog.splice(0, 1000);
  if (verbose) process.stderr.write(`espruino-tools: ${line}\n`);
}

/** Route console output to the tool log until the returned release is called. */
function hold(): () => void {
  if (!consoleRouted) {
    consoleRouted = true;
    for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      const original = console[method].bind(console);
      console[method] = (...args: unknown[]) => (busy > 0 ? collect(...args) : original(...args));
    }
  }
  busy++;
  let released = false;
  return () => {
    if (!released) busy--;
    released = true;
  };
}

/** Run `body` with console output going to the tool log. */
function quietly<T>(body: () => T): T {
  const release = hold();
  try {
    return body();
  } finally {
    release();
  }
}

/** Whether the package asks for the connected board's JSON file (plugins/boardJSON.js builds that URL). */
function isBoardJsonUrl(E: EspruinoGlobal, url: string): boolean {
  const env = E.Core.Env.getData();
  return url === env.JSON_URL || url === `${String(E.Config.BOARD_JSON_URL)}/${env.BOARD}.json`;
}

/** Load and initialise espruino-tools once, offline: no module downloads, no Bluetooth unless asked for. */
function load(): EspruinoGlobal {
  if (tools) return tools;
  const require = createRequire(import.meta.url);
  const espruino = require('espruino') as { init(callback: () => void): void };
  quietly(() => espruino.init(() => undefined));
  const E = (globalThis as unknown as { Espruino: EspruinoGlobal }).Espruino;
  Object.assign(E.Config, {
    BLUETOOTH_LOW_ENERGY: false,
    BLUETOOTH_LOW_ENERGY_DBUS: false,
    MODULE_URL: '',
    SET_TIME_ON_WRITE: false,
    SAVE_ON_SEND: 0,
  });
  // Modules this bundle carries (the model): found before the local folder and the (disabled) URLs.
  E.addProcessor('getModule', (data: { moduleName: string; moduleCode?: string }, callback) => {
    const code = providedModules.get(data.moduleName);
    if (code !== undefined && data.moduleCode === undefined) data.moduleCode = code;
    callback(data);
  });
  // On connect the package loads the board's JSON (<BOARD_JSON_URL>/<BOARD>.json, or the board's own
  // JSON_URL: firmware links and hardware details nothing here reads) from www.espruino.com, for
  // LINUX and BANGLEJS2 alike. Answered here with {}: connecting never needs the network.
  E.addProcessor('getURL', (data: { url: string; data?: string }, callback) => {
    if (isBoardJsonUrl(E, data.url)) data.data = '{}';
    callback(data);
  });
  // The package's own timers (executeExpression's Ctrl-C after 500 ms without a prompt) may write
  // once the board is gone; without a device that write throws from a timer: drop it instead.
  const write = E.Core.Serial.write;
  E.Core.Serial.write = (...args) => {
    if (E.Core.Serial.isConnected()) write(...args);
  };
  // A write that fails (the device gone, the socket closed at a timeout) makes the package close its
  // connection object, whose close() calls closeLowLevel(): undefined in this version of the package, so
  // the command died of a TypeError thrown from a timer. The device itself is closed by Serial.close().
  const connection = E.Core.Serial.connection;
  if (connection && typeof connection.closeLowLevel !== 'function') connection.closeLowLevel = () => undefined;
  tools = E;
  return E;
}

export interface UploadProcessing {
  /** Modules the code requires, by name. */
  modules: Record<string, string>;
  /** Esprima minification of the code and its modules (espruino-tools' offline minifier). */
  minify: boolean;
  /** Modules the board has built in (never looked up). */
  builtinModules: string[];
}

/**
 * The code as espruino-tools would upload it (its "transformForEspruino"
 * processors: modules inlined as Modules.addCached, minification), to RAM.
 * A module that cannot be found is an error, not a warning.
 */
export function processUpload(code: string, p: UploadProcessing): Promise<string> {
  const E = load();
  providedModules.clear();
  for (const [name, source] of Object.entries(p.modules)) providedModules.set(name, source);
  Object.assign(E.Config, {
    MINIFICATION_LEVEL: p.minify ? 'ESPRIMA' : '',
    MODULE_MINIFICATION_LEVEL: p.minify ? 'ESPRIMA' : '',
    SAVE_ON_SEND: 0,
  });
  const env = E.Core.Env.getData();
  const connectedModules = typeof env.MODULES === 'string' ? env.MODULES : '';
  env.MODULES = [...new Set([...connectedModules.split(',').filter(Boolean), ...p.builtinModules])].join(',');
  const before = toolLog.length;
  const release = hold();
  return new Promise((resolve, reject) => {
    quietly(() =>
      E.callProcessor('transformForEspruino', code, (out: string) => {
        // Called inside the processors' own try blocks: leave them before anything can throw.
        setImmediate(() => {
          release();
          const missing = toolLog.slice(before).find((l) => /Module .* not found/.test(l));
          const failed = toolLog.slice(before).find((l) => /^(Error|SyntaxError)|Line \d+:/.test(l));
          if (missing) reject(new UserError(`espruino-tools: ${missing}`));
          else if (failed) reject(new UserError(`espruino-tools could not process the code: ${failed}`));
          else resolve(out);
        });
      }),
    );
  });
}

/** A Storage upload of binary `bytes` as espruino-tools writes it (atob chunks of Storage.write). */
export function storageUploadCode(name: string, bytes: Uint8Array): string {
  return load().Core.Utils.getUploadFileCode(name, Buffer.from(bytes).toString('latin1'));
}

/** How `--port` reaches a board. */
export type PortKind = 'tcp' | 'serial' | 'ble';

export function portKind(port: string): PortKind {
  const tcp = /^tcp:\/\/[^/\s:]*(?::(\d{1,5}))?$/.exec(port);
  if (tcp) {
    const number = tcp[1] === undefined ? 23 : Number(tcp[1]);
    if (number < 1 || number > 65535) throw new UserError(`--port '${port}': a TCP port is a number from 1 to 65535`);
    return 'tcp';
  }
  if (/^([0-9a-f]{2}:){5}[0-9a-f]{2}( (public|random))?$/i.test(port)) {
    if (!bluetoothAvailable())
      throw new UserError(
        `--port '${port}' is a Bluetooth address, but Bluetooth is not installed here: npm install @abandonware/noble (it needs a Bluetooth adapter and, on Linux, permission to use it)`,
      );
    return 'ble';
  }
  if (/^(\/dev\/|COM\d+$)/.test(port)) return 'serial';
  throw new UserError(
    `--port '${port}': expected a serial port (/dev/ttyACM0, COM3), a Bluetooth address (aa:bb:cc:dd:ee:ff) or tcp://host:port`,
  );
}

/** Whether espruino-tools can reach Bluetooth: its optional noble module is installed. */
function bluetoothAvailable(): boolean {
  const require = createRequire(import.meta.url);
  for (const name of ['@abandonware/noble', 'noble', 'noble-winrt']) {
    try {
      require.resolve(name);
      return true;
    } catch {
      // not this one
    }
  }
  return false;
}

/** A tag for an expression's answer: unique within this process, and unlike another process's (a random start). */
let lastAnswerTag = Math.floor(Math.random() * 1e6) * 1000;
function nextAnswerTag(): number {
  return ++lastAnswerTag;
}

/** One open connection to a board: what it printed, writes, expressions. */
export class BoardConnection {
  private output = '';
  private closed = false;
  private disconnectedHandler: (() => void) | undefined;
  /** The package logs while a connection is open: routed to the tool log until close(). */
  private readonly releaseLog = hold();

  /**
   * A socket reset (the board's end died, or a cable) reaches the package as an 'error' it only
   * logs, never as the 'end' it reports as a disconnect: the connection is gone all the same.
   */
  private readonly watchFaults = (line: string) => {
    if (!/^RECEIVE ERROR:.*(ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH)/.test(line) || this.closed) return;
    this.closed = true;
    this.disconnectedHandler?.();
  };

  private release(): void {
    logWatchers.delete(this.watchFaults);
    this.releaseLog();
  }

  private constructor(
    private readonly E: EspruinoGlobal,
    readonly port: string,
  ) {}

  /** Everything the board printed since the connection opened (or since `clearOutput`). */
  get printed(): string {
    return this.output;
  }

  clearOutput(): void {
    this.output = '';
  }

  /** Connect, and read the board's process.env (espruino-tools does on connect). */
  static open(port: string, timeoutMs: number): Promise<BoardConnection> {
    const kind = portKind(port);
    const E = load();
    Object.assign(E.Config, { BLUETOOTH_LOW_ENERGY: kind === 'ble', SERIAL_TCPIP: kind === 'tcp' ? [port] : [] });
    const c = new BoardConnection(E, port);
    const logStart = toolLog.length;
    const failure = () => toolLog.slice(logStart).find((l) => /ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ECONNRESET|ETIMEDOUT/.test(l));
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (message: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        clearInterval(poll);
        quietly(() => E.Core.Serial.close());
        c.release();
        reject(new UserError(message));
      };
      const timer = setTimeout(() => {
        const why = failure();
        if (why) return fail(`could not connect to ${port} within ${timeoutMs / 1000} s: ${why}`);
        // connected or not, nothing came back: silence is reported as silence
        if (c.output === '')
          return fail(`no answer from ${port} within ${timeoutMs / 1000} s: it printed nothing (is this an Espruino board's port?)`);
        fail(
          `${port} answered, but not as an Espruino board within ${timeoutMs / 1000} s (it printed ${JSON.stringify(c.output.trim().slice(-80))})`,
        );
      }, timeoutMs);
      // A refused or unreachable address is known at once; the package only logs it.
      const poll = setInterval(() => {
        const why = failure();
        if (why) fail(`could not connect to ${port}: ${/"code":"(\w+)"/.exec(why)?.[1] ?? why}`);
      }, 100);
      quietly(() => {
        E.Core.Serial.startListening((data) => {
          c.output += Buffer.from(data).toString('latin1');
        });
        E.Core.Serial.open(
          port,
          (status) => {
            if (settled) return;
            if (status === undefined) return fail(`could not connect to ${port}: ${recentToolLog(1)[0] ?? 'no answer'}`);
            settled = true;
            clearTimeout(timer);
            clearInterval(poll);
            logWatchers.add(c.watchFaults);
            resolve(c);
          },
          () => {
            c.closed = true;
            c.disconnectedHandler?.();
          },
        );
      });
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** process.env of the board, as read on connect. */
  get env(): Record<string, any> {
    return this.E.Core.Env.getData();
  }

  /**
   * Wait for `action` to call back, failing on a timeout, a disconnect, or an exception the
   * board prints meanwhile (its own message, at once: the expression will never answer).
   */
  private guarded<T>(what: string, timeoutMs: number, action: (done: (v: T) => void) => void): Promise<T> {
    if (this.closed) return Promise.reject(new UserError(`${this.port} disconnected before ${what}`));
    const from = this.output.length;
    return new Promise((resolve, reject) => {
      const finish = () => {
        clearTimeout(timer);
        clearInterval(watch);
        this.disconnectedHandler = undefined;
      };
      const timer = setTimeout(() => {
        finish();
        reject(new UserError(`${what} on ${this.port}: no answer within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      const watch = setInterval(() => {
        const thrown = /Uncaught ([^\r\n]+)/.exec(this.output.slice(from));
        if (!thrown) return;
        finish();
        reject(new UserError(`${what} on ${this.port}: the board said "Uncaught ${thrown[1]!.trim()}"`));
      }, 50);
      this.disconnectedHandler = () => {
        finish();
        reject(new UserError(`${this.port} disconnected during ${what}`));
      };
      quietly(() =>
        action((v) => {
          finish();
          setImmediate(() => resolve(v));
        }),
      );
    });
  }

  /**
   * The value of a JavaScript expression on the board (sent through JSON); an error when the board
   * printed none. The board answers [tag, value]: espruino-tools takes the first answer between its
   * markers as the one it asked for, and an answer that came late (the package's own process.env
   * query on connect gives up after 2 s; a loaded machine delayed the watch's bridge longer) was
   * taken for the next expression's. Another tag's answer is passed over, and this one's read from
   * what the board prints after it.
   */
  async evaluate(expression: string, what: string, timeoutMs: number): Promise<unknown> {
    const until = Date.now() + timeoutMs;
    const tag = nextAnswerTag();
    const answer = (await this.evaluateText(`[${tag},${expression}]`, what, timeoutMs)) as unknown;
    if (Array.isArray(answer) && answer[0] === tag) return answer[1];
    const late = await this.waitFor(new RegExp(`< << \\[${tag},([\\s\\S]*?)\\] >> >`), what, Math.max(1000, until - Date.now()));
    const text = late.slice(`< << [${tag},`.length, -'] >> >'.length);
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new UserError(`${what} on ${this.port}: unexpected answer ${JSON.stringify(text.slice(0, 200))}`);
    }
  }

  /** The board's answer to `expression` as espruino-tools reads it (JSON, parsed), whichever expression it answered. */
  private evaluateText(expression: string, what: string, timeoutMs: number): Promise<unknown> {
    const from = this.output.length;
    return this.guarded<string | undefined>(what, timeoutMs, (done) =>
      this.E.Core.Utils.executeExpression(expression, done, { maxTimeout: timeoutMs / 1000, minTimeout: Math.min(10, timeoutMs / 1000) }),
    ).then((text) => {
      if (text === undefined && this.closed) throw new UserError(`${this.port} disconnected during ${what}`);
      const thrown = text === undefined ? /Uncaught ([^\r\n]+)/.exec(this.output.slice(from)) : null;
      if (thrown) throw new UserError(`${what} on ${this.port}: the board said "Uncaught ${thrown[1]!.trim()}"`);
      if (text === undefined)
        throw new UserError(
          `${what} on ${this.port}: the board printed no result (last output: ${JSON.stringify(this.output.slice(-200))})`,
        );
      try {
        return JSON.parse(text);
      } catch {
        throw new UserError(`${what} on ${this.port}: unexpected answer ${JSON.stringify(text.slice(0, 200))}`);
      }
    });
  }

  /**
   * Write a Storage file with espruino-tools' upload code (Storage.write of
   * atob chunks), one chunk per expression: each waits for the board's answer,
   * so no transport (telnet has no flow control) can overrun its input buffer.
   */
  async writeStorageFile(
    name: string,
    bytes: Uint8Array,
    timeoutMs: number,
    progress?: (done: number, total: number) => void,
  ): Promise<void> {
    const lines = storageUploadCode(name, bytes)
      .split('\n')
      .filter((l) => l.trim() !== '');
    for (let i = 0; i < lines.length; i++) {
      const ok = await this.evaluate(lines[i], `writing "${name}" (chunk ${i + 1} of ${lines.length})`, timeoutMs);
      if (ok !== true)
        throw new UserError(
          `writing "${name}" on ${this.port}: Storage.write answered ${JSON.stringify(ok)} at chunk ${i + 1} of ${lines.length} (is the Storage full? require("Storage").getFree() tells)`,
        );
      progress?.(i + 1, lines.length);
    }
  }

  /** Write raw text (a command line) without waiting for anything. */
  send(text: string): void {
    quietly(() => this.E.Core.Serial.write(text, false));
  }

  /** Wait until the board has printed `pattern` (since the output was last cleared). */
  async waitFor(pattern: RegExp, what: string, timeoutMs: number): Promise<string> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      const m = pattern.exec(this.output);
      if (m) return m[0];
      if (this.closed) throw new UserError(`${this.port} disconnected while waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new UserError(
      `${what} on ${this.port}: not seen within ${timeoutMs / 1000} s (last output: ${JSON.stringify(this.output.slice(-300))})`,
    );
  }

  close(): Promise<void> {
    if (this.closed) {
      this.release();
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 2000);
      this.disconnectedHandler = () => {
        clearTimeout(timer);
        resolve();
      };
      quietly(() => this.E.Core.Serial.close());
    }).then(() => this.release());
  }
}
