/**
 * The app's rules on the host: what `feed(x)` in firmware/emit-app.ts does
 * with each sample, written independently of the emitter, around any model
 * that steps on real readings (the int8 simulator: the same integers as the
 * board; or the float reference, for comparison).
 *
 * - A sample with a bad reading (not a number, NaN, outside its valid range)
 *   is counted and never reaches the model; the forecasts waiting to be
 *   scored are dropped; after `maxBadRun` bad samples in a row the model is
 *   reset.
 * - Warm-up: after a reset the model has seen nothing; a forecast counts
 *   (is scored, can alert) only once the model has stepped `warmup` times
 *   since the last reset, this step included.
 * - Score (regression, target a feature): |forecast made `horizon` samples
 *   ago − the reading now|, the largest over the targets; `sq` adds every
 *   target's squared error and `scored` counts the samples scored, so
 *   sqrt(sq / (scored · targets)) is the device's RMSE.
 * - Score (classification): the probability of `alertClass`.
 */
import { scoreKind, type AppConfig } from './app-config.ts';
import type { QuantizedModel } from '../core/model.ts';
import { numberOr } from '../core/step-arguments.ts';

/** A model stepped on real readings: the simulator, the float reference, ... */
export interface ReadingStepper {
  reset(): void;
  /** Real readings in feature order -> real outputs. */
  step(x: ArrayLike<number>): ArrayLike<number>;
}

export type ReplayRules = Pick<AppConfig, 'validRanges' | 'maxBadRun' | 'warmup' | 'alertAbove' | 'alertClass'>;

export interface AppStats {
  samples: number;
  steps: number;
  bad: number;
  badRun: number;
  resets: number;
  alerts: number;
  /** Steps since the last reset. */
  run: number;
  /** Sum of squared forecast errors over the samples scored, every target. */
  sq: number;
  /** Samples whose forecast error was scored. */
  scored: number;
  score: number;
  alerting: boolean;
  lastBad: boolean;
}

export class AppReplay {
  readonly stats: AppStats = {
    samples: 0,
    steps: 0,
    bad: 0,
    badRun: 0,
    resets: 0,
    alerts: 0,
    run: 0,
    sq: 0,
    scored: 0,
    score: NaN,
    alerting: false,
    lastBad: false,
  };
  /** Real outputs of the last step. */
  outputs: Float64Array;
  /** Whether the last step's outputs count (the model was warm). */
  warm = false;
  private readonly score: ReturnType<typeof scoreKind>;
  private readonly horizon: number;
  /** Forecasts of the last `horizon` steps, oldest first, each with whether it was warm. */
  private readonly ring: { y: Float64Array; warm: boolean }[] = [];

  constructor(
    private readonly q: QuantizedModel,
    private readonly rules: ReplayRules,
    private readonly model: ReadingStepper,
  ) {
    this.outputs = new Float64Array(q.head.outputSize);
    this.score = scoreKind(q);
    this.horizon = Math.max(q.horizon, 1);
    this.clear();
  }

  private clear(): void {
    this.model.reset();
    this.ring.length = 0;
    this.stats.badRun = 0;
    this.stats.run = 0;
    this.stats.score = NaN;
    this.stats.alerting = false;
    this.warm = false;
  }

  reset(): void {
    this.clear();
    this.stats.resets++;
  }

  /** One sample of real readings (feature order); returns true when the model stepped. */
  feed(x: ArrayLike<number>): boolean {
    const st = this.stats;
    const { validRanges } = this.rules;
    st.samples++;
    let ok = true;
    for (let i = 0; i < validRanges.length; i++) {
      const v = numberOr(x[i], NaN);
      if (!(v >= validRanges[i]!.lo && v <= validRanges[i]!.hi)) ok = false;
    }
    if (!ok) {
      st.bad++;
      st.badRun++;
      st.lastBad = true;
      this.ring.length = 0;
      if (st.badRun >= this.rules.maxBadRun) this.reset();
      return false;
    }
    st.lastBad = false;
    st.badRun = 0;
    const sc = this.score;
    let s = NaN;
    if (sc.kind === 'forecast-error' && this.q.horizon > 0 && this.ring.length >= this.horizon) {
      const old = this.ring[this.ring.length - this.horizon]!;
      if (old.warm) s = this.scoreAgainst(old.y, x, sc.targets);
    }
    this.outputs = Float64Array.from(this.model.step(x));
    st.steps++;
    st.run++;
    this.warm = st.run >= this.rules.warmup;
    if (sc.kind === 'forecast-error') {
      if (this.q.horizon === 0) s = this.warm ? this.scoreAgainst(this.outputs, x, sc.targets) : NaN;
      else {
        this.ring.push({ y: this.outputs, warm: this.warm });
        if (this.ring.length > this.horizon) this.ring.shift();
      }
    } else if (sc.kind === 'probability' && this.warm) s = this.probability();
    st.score = s;
    if (this.rules.alertAbove !== undefined && s > this.rules.alertAbove) {
      if (!st.alerting) {
        st.alerting = true;
        st.alerts++;
      }
    } else st.alerting = false;
    return true;
  }

  /** max_k |y_k − reading of target k|; adds each squared error to sq, counts the sample. */
  private scoreAgainst(y: ArrayLike<number>, x: ArrayLike<number>, targets: number[]): number {
    let s = 0;
    for (let k = 0; k < targets.length; k++) {
      const d = y[k]! - x[targets[k]!]!;
      this.stats.sq += d * d;
      const a = d < 0 ? -d : d;
      if (a > s) s = a;
    }
    this.stats.scored++;
    return s;
  }

  /** P(alertClass): sigmoid of the one logit, or softmax over the logits. */
  private probability(): number {
    const y = this.outputs;
    if (this.q.headActivation === 'sigmoid') {
      const p1 = 1 / (1 + Math.exp(-y[0]!));
      return this.rules.alertClass === 1 ? p1 : 1 - p1;
    }
    let m = y[0]!;
    for (let i = 1; i < y.length; i++) if (y[i]! > m) m = y[i]!;
    let sum = 0;
    for (let i = 0; i < y.length; i++) sum += Math.exp(y[i]! - m);
    return Math.exp(y[this.rules.alertClass]! - m) / sum;
  }
}
