// Offline map of a case: the Viet Nam – China border (Natural Earth, shipped in
// border_lang_son.json), the monitoring sites, and the emitter's estimated position
// with its uncertainty circle. Equirectangular projection about the view's centre.
"use strict";

async function drawCaseMap(svg, c, note) {
  const border = await (await fetch("/ui/static/border_lang_son.json")).json();
  const pts = c.sites.map(s => [s.lon_deg, s.lat_deg]);
  if (c.location) pts.push([c.location.lon_deg, c.location.lat_deg]);
  if (!pts.length) pts.push([106.76, 21.85]);  // Lạng Sơn city
  let lon0 = Math.min(...pts.map(p => p[0])), lon1 = Math.max(...pts.map(p => p[0]));
  let lat0 = Math.min(...pts.map(p => p[1])), lat1 = Math.max(...pts.map(p => p[1]));
  const pad = 0.08 + (c.location ? c.location.radius_m / 111320 : 0);
  lon0 -= pad; lon1 += pad; lat0 -= pad; lat1 += pad;
  const k = Math.cos((lat0 + lat1) / 2 * Math.PI / 180);
  const W = 420, H = 420;
  const span = Math.max((lon1 - lon0) * k, lat1 - lat0);
  const cx = (lon0 + lon1) / 2, cy = (lat0 + lat1) / 2;
  const sx = (lon) => W / 2 + (lon - cx) * k / span * W;
  const sy = (lat) => H / 2 - (lat - cy) / span * H;
  const m_per_px = span * 111320 / W;
  let out = `<rect width="${W}" height="${H}" fill="#eef3ee"/>`;
  for (const line of border.lines_lon_lat) {
    out += `<polyline class="border" fill="none" stroke="#c33" stroke-width="2" stroke-dasharray="6 3" points="${line.map(p => `${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join(" ")}"/>`;
  }
  for (const s of c.sites) {
    const x = sx(s.lon_deg), y = sy(s.lat_deg);
    out += `<g class="site"><rect x="${x - 5}" y="${y - 5}" width="10" height="10" fill="${s.heard ? "#06c" : "#99a"}"/>` +
      `<text x="${x + 8}" y="${y + 4}" font-size="11">${esc(s.id)}</text></g>`;
  }
  if (c.location) {
    const x = sx(c.location.lon_deg), y = sy(c.location.lat_deg);
    out += `<circle class="uncertainty" cx="${x}" cy="${y}" r="${Math.max(3, c.location.radius_m / m_per_px)}" fill="rgba(255,120,0,0.2)" stroke="#f70"/>` +
      `<circle class="estimate" cx="${x}" cy="${y}" r="4" fill="#f70"/>`;
  }
  const bar_m = Math.pow(10, Math.floor(Math.log10(m_per_px * 120)));
  out += `<line x1="10" y1="${H - 12}" x2="${10 + bar_m / m_per_px}" y2="${H - 12}" stroke="#000" stroke-width="3"/>` +
    `<text x="10" y="${H - 18}" font-size="11">${bar_m >= 1000 ? bar_m / 1000 + " km" : bar_m + " m"}</text>`;
  svg.innerHTML = out;
  note.innerHTML = `<span style="color:#c33">- - -</span> ${esc(t("border"))}; <span style="color:#06c">■</span> ${esc(t("site"))}` +
    (c.location ? `; <span style="color:#f70">●</span> ${esc(t("estimate"))}: ${c.location.lat_deg.toFixed(5)}, ${c.location.lon_deg.toFixed(5)} ± ${Math.round(c.location.radius_m)} m` : "");
}
