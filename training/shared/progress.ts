import { Presets, SingleBar } from 'cli-progress';

/** A progress bar for long CLI work: counts, MB and rates on one updating line (stderr). */
export interface ProgressLine {
  update(done: number, extra: { rows: number; bytes: number }): void;
  stop(): void;
}

/** Starts a progress line over `total` units (days, files, ...) named `unit`. */
export function startProgress(label: string, total: number, unit: string): ProgressLine {
  const started = performance.now();
  const bar = new SingleBar(
    {
      format: `${label} [{bar}] {value}/{total} ${unit} | {rows} rows | {mb} MB | {rate} rows/s`,
      stream: process.stderr,
      hideCursor: true,
      noTTYOutput: !process.stderr.isTTY,
      notTTYSchedule: 5000,
      barCompleteChar: '#',
      barIncompleteChar: '-',
    },
    Presets.legacy,
  );
  bar.start(total, 0, { rows: 0, mb: '0.0', rate: 0 });
  return {
    update(done, { rows, bytes }) {
      const seconds = (performance.now() - started) / 1000;
      bar.update(done, {
        rows: rows.toLocaleString('en-US'),
        mb: (bytes / 1e6).toFixed(1),
        rate: Math.round(rows / Math.max(seconds, 1e-3)).toLocaleString('en-US'),
      });
    },
    stop() {
      bar.stop();
    },
  };
}
