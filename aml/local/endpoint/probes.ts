import { request } from 'node:http';
import type { ProbeSettings } from './spec.js';

/** One HTTP GET against a loopback port; true for a 2xx/3xx answer within the timeout. */
export function probeOnce(port: number, path: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: 'GET', agent: false, timeout: timeoutMs },
      (res) => {
        res.resume();
        resolve((res.statusCode ?? 500) < 400);
      },
    );
    // A failed probe is an outcome, not an error: it feeds the failure threshold.
    req.on('timeout', () => req.destroy(new Error('probe timeout')));
    req.on('error', () => resolve(false));
    req.end();
  });
}

/**
 * Runs a Kubernetes-style probe: after `initialDelayMs`, one GET every `periodMs`; the result flips to
 * healthy after `successThreshold` consecutive passes and to unhealthy after `failureThreshold` failures.
 */
export class Prober {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private passes = 0;
  private failures = 0;
  private healthy: boolean;

  constructor(
    private readonly settings: ProbeSettings,
    private readonly port: number,
    initiallyHealthy: boolean,
    private readonly onChange: (healthy: boolean) => void,
  ) {
    this.healthy = initiallyHealthy;
  }

  /** Whether the probe currently counts the target as healthy. */
  get isHealthy(): boolean {
    return this.healthy;
  }

  /** Starts probing after the initial delay. */
  start(): void {
    this.schedule(this.settings.initialDelayMs);
  }

  /** Stops probing; no further onChange calls. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), delayMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    const passed = await probeOnce(this.port, this.settings.path, this.settings.timeoutMs);
    if (this.stopped) return;
    if (passed) {
      this.passes += 1;
      this.failures = 0;
      if (!this.healthy && this.passes >= this.settings.successThreshold) this.flip(true);
    } else {
      this.failures += 1;
      this.passes = 0;
      if (this.healthy && this.failures >= this.settings.failureThreshold) this.flip(false);
    }
    this.schedule(this.settings.periodMs);
  }

  private flip(healthy: boolean): void {
    this.healthy = healthy;
    this.onChange(healthy);
  }
}
