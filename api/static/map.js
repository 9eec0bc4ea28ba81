// Offline map of a case: the Viet Nam – China border (Natural Earth, shipped in
// border_lang_son.json), the monitoring sites, and the emitter's estimated position
// with its uncertainty circle. Equirectangular projection about the view's centre.
"use strict";

async function drawCaseMap(svg, c, note) {
  const border = await (await fetch("/ui/static/border_lang_son.json")).json();
  const pts = c.sites.map(s => [s.lon_deg, s.lat_deg]);
  const loc = c.location, fit = c.drive_fit;
  if (loc) pts.push([loc.lon_deg, loc.lat_deg]);
  if (fit) pts.push([fit.lon_deg, fit.lat_deg]);
  if (!pts.length) pts.push([106.76, 21.85]);  // Lạng Sơn city
  let lon0 = Math.min(...pts.map(p => p[0])), lon1 = Math.max(...pts.map(p => p[0]));
  let lat0 = Math.min(...pts.map(p => p[1])), lat1 = Math.max(...pts.map(p => p[1]));
  // room for the 95 % ellipse, but not the whole province for a poorly fixed one
  const pad = 0.08 + Math.min(0.3, (loc ? loc.semi_major_m : fit ? fit.radius_m : 0) / 111320);
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
  if (fit) {  // the field kit's own drive-test fit: a dashed circle
    const x = sx(fit.lon_deg), y = sy(fit.lat_deg);
    out += `<circle class="drive-fit" cx="${x}" cy="${y}" r="${Math.max(3, fit.radius_m / m_per_px)}" fill="none" stroke="#a50" stroke-dasharray="4 3"/>`;
  }
  if (loc) {  // the case's location: the 95 % ellipse (orientation clockwise from north)
    const x = sx(loc.lon_deg), y = sy(loc.lat_deg);
    const rx = Math.max(3, loc.semi_major_m / m_per_px), ry = Math.max(3, loc.semi_minor_m / m_per_px);
    out += `<ellipse class="uncertainty" cx="${x}" cy="${y}" rx="${rx}" ry="${ry}" transform="rotate(${loc.orientation_deg - 90} ${x} ${y})" fill="rgba(255,120,0,0.2)" stroke="#f70"/>` +
      `<circle class="estimate" cx="${x}" cy="${y}" r="4" fill="#f70"/>`;
    if (loc.drive_to) {
      const dx = sx(loc.drive_to.lon_deg), dy = sy(loc.drive_to.lat_deg);
      out += `<path class="drive-to" d="M${dx - 6},${dy} L${dx + 6},${dy} M${dx},${dy - 6} L${dx},${dy + 6}" stroke="#080" stroke-width="3"/>`;
    }
  }
  const bar_m = Math.pow(10, Math.floor(Math.log10(m_per_px * 120)));
  out += `<line x1="10" y1="${H - 12}" x2="${10 + bar_m / m_per_px}" y2="${H - 12}" stroke="#000" stroke-width="3"/>` +
    `<text x="10" y="${H - 18}" font-size="11">${bar_m >= 1000 ? bar_m / 1000 + " km" : bar_m + " m"}</text>`;
  svg.innerHTML = out;
  note.innerHTML = `<span style="color:#c33">- - -</span> ${esc(t("border"))}; <span style="color:#06c">■</span> ${esc(t("site"))}` +
    (loc ? `; <span style="color:#f70">●</span> ${esc(t("estimate"))}: ${loc.lat_deg.toFixed(5)}, ${loc.lon_deg.toFixed(5)}, 95 %: ${Math.round(loc.semi_major_m)} × ${Math.round(loc.semi_minor_m)} m; ${esc(t("verdict_" + loc.verdict))}` +
      (loc.p_vietnam === null ? "" : ` (P(VN) = ${loc.p_vietnam.toFixed(3)})`) +
      (loc.drive_to ? `; <span style="color:#080">+</span> ${esc(t("drive_to"))}: ${loc.drive_to.lat_deg.toFixed(5)}, ${loc.drive_to.lon_deg.toFixed(5)}` : "")
      : (c.location_note ? `; ${esc(t("not_located"))}: ${esc(c.location_note)}` : "")) +
    (fit ? `; <span style="color:#a50">◌</span> ${esc(t("drive_fit"))}: ± ${Math.round(fit.radius_m)} m` : "");
}
