// Canary charts: p95 latency and 5xx rate per deployment over time, with the SLO as a dashed line and a
// vertical marker where the release moved traffic. Drawn with uPlot (served from node_modules).
import uPlot from 'uplot';

const palette = ['#1f77b4', '#ff7f0e', '#2ca02c', '#9467bd', '#8c564b', '#17becf'];
const sloColor = '#d62728';

/** Aligns points by time: x = unique analysis times (s), one y array per deployment (null where absent). */
export function alignSeries(points, valueOf, extraTimes = []) {
  const times = [...new Set([...points.map((p) => Date.parse(p.at) / 1000), ...extraTimes])].sort(
    (a, b) => a - b,
  );
  const deployments = [...new Set(points.map((p) => p.deployment))];
  const index = new Map(times.map((t, i) => [t, i]));
  const ys = deployments.map((d) => {
    const y = new Array(times.length).fill(null);
    for (const p of points) if (p.deployment === d) y[index.get(Date.parse(p.at) / 1000)] = valueOf(p);
    return y;
  });
  return { times, deployments, ys };
}

function markerPlugin(changes) {
  return {
    hooks: {
      draw: [
        (u) => {
          const { ctx } = u;
          const { top, height } = u.bbox;
          ctx.save();
          ctx.strokeStyle = '#555';
          ctx.fillStyle = '#333';
          ctx.setLineDash([2, 3]);
          ctx.font = `${Math.round(10 * devicePixelRatio)}px sans-serif`;
          for (const change of changes) {
            const x = Math.round(u.valToPos(Date.parse(change.at) / 1000, 'x', true));
            if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
            ctx.beginPath();
            ctx.moveTo(x, top);
            ctx.lineTo(x, top + height);
            ctx.stroke();
            ctx.fillText(change.label, x + 4, top + 12 * devicePixelRatio);
          }
          ctx.restore();
        },
      ],
    },
  };
}

/**
 * Draws one metric of a canary series into `target`. Returns the number of data points drawn, which the
 * page also writes to the chart's data-points attribute.
 */
export function canaryChart(target, series, metric) {
  const spec =
    metric === 'p95'
      ? {
          title: 'p95 latency (ms)',
          value: (p) => p.p95LatencyMs,
          slo: series.slo?.maxP95LatencyMs,
          fmt: (v) => `${v} ms`,
        }
      : {
          title: '5xx error rate (%)',
          value: (p) => (p.errorRate === null ? null : p.errorRate * 100),
          slo: series.slo ? series.slo.max5xxRate * 100 : undefined,
          fmt: (v) => `${v.toFixed(2)}%`,
        };
  // Traffic changes join the x axis so the SLO line spans them too.
  const changeTimes = series.trafficChanges.map((c) => Date.parse(c.at) / 1000);
  const { times, deployments, ys } = alignSeries(series.points, spec.value, changeTimes);
  const allTimes = times;
  const data = [times, ...ys];
  const lines = deployments.map((d, i) => ({
    label: d,
    stroke: palette[i % palette.length],
    width: 2,
    spanGaps: true,
    points: { show: true, size: 6 },
    value: (_u, v) => (v == null ? '—' : spec.fmt(v)),
  }));
  if (spec.slo !== undefined) {
    data.push(times.map(() => spec.slo));
    lines.push({
      label: `SLO ${spec.fmt(spec.slo)}`,
      stroke: sloColor,
      dash: [6, 4],
      width: 1.5,
      points: { show: false },
    });
  }
  const width = Math.max(320, Math.min(target.clientWidth || 640, 900));
  target.replaceChildren();
  const count = ys.reduce((n, y) => n + y.filter((v) => v !== null).length, 0);
  target.dataset.points = String(count);
  if (count === 0) {
    target.textContent = 'No canary analyses yet.';
    return 0;
  }
  const lo = Math.min(...allTimes);
  const hi = Math.max(...allTimes);
  const pad = Math.max(1, (hi - lo) * 0.05);
  new uPlot(
    {
      title: spec.title,
      width,
      height: 240,
      scales: {
        x: { time: true, range: () => [lo - pad, hi + pad] },
        y: {
          range: (_u, min, max) => {
            const top = Math.max(max ?? 0, spec.slo ?? 0);
            return [0, top > 0 ? top * 1.15 : 1];
          },
        },
      },
      series: [{ label: 'time' }, ...lines],
      plugins: [markerPlugin(series.trafficChanges)],
    },
    data,
    target,
  );
  return count;
}
