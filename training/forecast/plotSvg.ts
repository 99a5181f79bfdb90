import { formatIsoDay } from './dates.js';

/** A series of (day, value) points drawn as one line. */
export interface PlotLine {
  label: string;
  color: string;
  dashed?: boolean;
  points: { day: number; value: number }[];
}

/** One panel: a key and its lines. */
export interface PlotPanel {
  title: string;
  lines: PlotLine[];
}

const WIDTH = 900;
const PANEL_HEIGHT = 170;
const MARGIN = { left: 56, right: 16, top: 26, bottom: 24 };

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Small multiples of forecast vs actual, one panel per key. Plain SVG text: a chart library would add
 * a browser or canvas dependency for a handful of polylines.
 */
export function renderForecastPlot(title: string, panels: readonly PlotPanel[]): string {
  const height = 30 + panels.length * PANEL_HEIGHT;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${WIDTH / 2}" y="18" text-anchor="middle" font-size="14">${escapeXml(title)}</text>`,
  ];
  panels.forEach((panel, p) => {
    const top = 30 + p * PANEL_HEIGHT;
    const all = panel.lines.flatMap((l) => l.points);
    if (all.length === 0) return;
    const minDay = Math.min(...all.map((q) => q.day));
    const maxDay = Math.max(...all.map((q) => q.day));
    const maxValue = Math.max(1, ...all.map((q) => q.value));
    const plotW = WIDTH - MARGIN.left - MARGIN.right;
    const plotH = PANEL_HEIGHT - MARGIN.top - MARGIN.bottom;
    const sx = (day: number): number => MARGIN.left + ((day - minDay) / Math.max(1, maxDay - minDay)) * plotW;
    const sy = (value: number): number => top + MARGIN.top + plotH - (value / maxValue) * plotH;
    parts.push(
      `<text x="${MARGIN.left}" y="${top + 16}" font-weight="bold">${escapeXml(panel.title)}</text>`,
      `<line x1="${MARGIN.left}" y1="${sy(0)}" x2="${WIDTH - MARGIN.right}" y2="${sy(0)}" stroke="#999"/>`,
      `<line x1="${MARGIN.left}" y1="${sy(0)}" x2="${MARGIN.left}" y2="${sy(maxValue)}" stroke="#999"/>`,
      `<text x="${MARGIN.left - 4}" y="${sy(maxValue) + 4}" text-anchor="end">${maxValue.toFixed(0)}</text>`,
      `<text x="${MARGIN.left - 4}" y="${sy(0) + 4}" text-anchor="end">0</text>`,
      `<text x="${MARGIN.left}" y="${sy(0) + 14}">${formatIsoDay(minDay)}</text>`,
      `<text x="${WIDTH - MARGIN.right}" y="${sy(0) + 14}" text-anchor="end">${formatIsoDay(maxDay)}</text>`,
    );
    panel.lines.forEach((line, i) => {
      const path = [...line.points]
        .sort((a, b) => a.day - b.day)
        .map((q) => `${sx(q.day).toFixed(1)},${sy(q.value).toFixed(1)}`)
        .join(' ');
      parts.push(
        `<polyline fill="none" stroke="${line.color}" stroke-width="1.5"${line.dashed ? ' stroke-dasharray="4 3"' : ''} points="${path}"/>`,
        `<text x="${WIDTH - MARGIN.right - 130 * (panel.lines.length - i)}" y="${top + 16}" fill="${line.color}">${escapeXml(line.label)}</text>`,
      );
    });
  });
  parts.push('</svg>');
  return parts.join('\n');
}
