// Draws the dashboard's charts (Chart.js, served from static/vendor) from the page's JSON.
(() => {
  const source = document.getElementById("dashboard-charts");
  if (!source || typeof Chart === "undefined") return;
  const charts = JSON.parse(source.textContent);
  const palette = ["#0d6efd", "#198754", "#fd7e14", "#6f42c1", "#dc3545", "#20c997", "#6c757d", "#ffc107"];
  const lang = document.documentElement.lang || undefined;
  const formatter = (kind) => (value) => {
    if (value === null || value === undefined) return "—";
    if (kind === "money") return "¥" + Math.round(value).toLocaleString(lang);
    if (kind === "rate") return (value * 100).toFixed(1) + "%";
    return Number(value).toLocaleString(lang);
  };
  document.querySelectorAll("canvas[data-chart]").forEach((canvas) => {
    const config = charts[canvas.dataset.chart.replace(/^chart-/, "")];
    if (!config) return;
    const round = config.type === "doughnut";
    const format = formatter(config.kind);
    new Chart(canvas, {
      type: config.type,
      data: {
        labels: config.labels,
        datasets: config.datasets.map((dataset, i) => ({
          backgroundColor: round ? palette : palette[i % palette.length],
          ...dataset,
          borderColor: round ? "#fff" : palette[i % palette.length],
          tension: 0.25,
          pointRadius: config.labels.length > 40 ? 0 : 2,
        })),
      },
      options: {
        indexAxis: config.horizontal ? "y" : "x",
        maintainAspectRatio: false,
        animation: false,
        plugins: {
          legend: { display: config.datasets.length > 1 || round, position: "bottom", labels: { boxWidth: 12 } },
          tooltip: { callbacks: { label: (ctx) => `${ctx.dataset.label || ctx.label}: ${format(round ? ctx.parsed : config.horizontal ? ctx.parsed.x : ctx.parsed.y)}` } },
        },
        scales: round ? {} : config.horizontal ? {
          x: { beginAtZero: true, ticks: { callback: format } },
          y: { ticks: { autoSkip: false } },
        } : {
          x: { stacked: config.stacked, ticks: { maxRotation: 0, autoSkip: true } },
          y: { stacked: config.stacked, beginAtZero: true, ticks: { callback: format } },
        },
      },
    });
  });
})();
