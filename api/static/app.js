// rfwatch desk: language, login token, API calls, page header. No external scripts.
"use strict";

const I18N = {
  vi: {
    app: "rfwatch — giám sát tần số", login: "Đăng nhập", logout: "Đăng xuất",
    username: "Tên đăng nhập", password: "Mật khẩu", wrong_login: "Sai tên hoặc mật khẩu",
    alarms: "Cảnh báo", cases: "Vụ việc", live: "Phổ trực tiếp", case: "Vụ việc",
    status: "Trạng thái", class: "Loại đài", kinds: "Loại vi phạm", stations: "Trạm",
    station: "Trạm", band: "Băng", assignee: "Người xử lý", last_seen: "Lần cuối",
    first_seen: "Lần đầu", frequency: "Tần số (MHz)", severity: "Mức độ", all: "Tất cả",
    filter: "Lọc", open_case: "Mở vụ việc", ack: "Xác nhận", no_alarms: "Không có cảnh báo",
    new_case: "Vụ việc mới", new_finding: "Phát hiện mới", findings: "Phát hiện vi phạm",
    measured: "Đo được", permitted: "Cho phép", legal_basis: "Căn cứ pháp lý",
    evidence: "Chứng cứ", checksum: "Tổng kiểm SHA-256", download: "Tải về",
    history: "Lịch sử", audit: "Nhật ký kiểm toán", actor: "Người thực hiện",
    action: "Hành động", detail: "Chi tiết", time: "Thời gian", transitions: "Chuyển trạng thái",
    reason: "Lý do", dismiss_reason: "Lý do bác bỏ", move: "Chuyển", map: "Bản đồ",
    estimate: "Vị trí ước tính", border: "Biên giới Việt Nam – Trung Quốc", site: "Trạm đo",
    verdict_vietnam: "phía Việt Nam", verdict_foreign: "phía nước ngoài",
    verdict_undetermined: "chưa xác định phía", drive_to: "Đề nghị đo lưu động tại",
    not_located: "Chưa định vị được", drive_fit: "Ước tính của bộ đo lưu động",
    none_allowed: "Vai trò của bạn không chuyển được trạng thái này", kind: "Loại",
    note: "Ghi chú", add_note: "Thêm ghi chú", level: "Mức", waterfall: "Thác phổ",
    frames: "khung", licence: "Giấy phép", plan: "Quy hoạch kênh", emission: "Phát xạ",
    added_by: "Người thêm", licensee: "Chủ giấy phép", total: "Tổng", radius: "bán kính",
    connected: "đã kết nối", disconnected: "mất kết nối", upload: "Tải lên chứng cứ",
    "status.new": "Mới", "status.triaged": "Đã phân loại",
    "status.field_verification": "Xác minh hiện trường", "status.enforcement": "Xử lý vi phạm",
    "status.closed": "Đã đóng", "status.dismissed": "Đã bác bỏ",
    "class.licensed": "Có giấy phép", "class.foreign": "Đài nước ngoài",
    "class.exempt": "Miễn giấy phép", "class.unknown": "Không xác định",
    "kind.unlicensed_emission": "Phát không phép",
    "kind.frequency_out_of_tolerance": "Sai tần số",
    "kind.bandwidth_exceeded": "Vượt độ rộng băng", "kind.off_channel_raster": "Lệch mạng kênh",
    "kind.licence_not_valid": "Giấy phép không còn hiệu lực",
    "kind.power_exceeded": "Vượt công suất", "kind.cross_border_over_trigger": "Vượt ngưỡng biên giới",
    "kind.exempt_limit_exceeded": "Vượt giới hạn miễn phép",
    "sev.high": "cao", "sev.medium": "trung bình", "sev.low": "thấp",
  },
  en: {
    app: "rfwatch — spectrum monitoring", login: "Log in", logout: "Log out",
    username: "User name", password: "Password", wrong_login: "Wrong user name or password",
    alarms: "Alarms", cases: "Cases", live: "Live spectrum", case: "Case",
    status: "Status", class: "Class", kinds: "Finding kinds", stations: "Stations",
    station: "Station", band: "Band", assignee: "Assignee", last_seen: "Last seen",
    first_seen: "First seen", frequency: "Frequency (MHz)", severity: "Severity", all: "All",
    filter: "Filter", open_case: "Open case", ack: "Acknowledge", no_alarms: "No alarms",
    new_case: "New case", new_finding: "New finding", findings: "Findings",
    measured: "Measured", permitted: "Permitted", legal_basis: "Legal basis",
    evidence: "Evidence", checksum: "SHA-256 checksum", download: "Download",
    history: "History", audit: "Audit log", actor: "Actor", action: "Action",
    detail: "Detail", time: "Time", transitions: "Transitions", reason: "Reason",
    dismiss_reason: "Dismiss reason", move: "Move", map: "Map", estimate: "Estimated position",
    verdict_vietnam: "Vietnamese side", verdict_foreign: "foreign side",
    verdict_undetermined: "side undetermined", drive_to: "Drive to",
    not_located: "Not located", drive_fit: "Field kit's own fit",
    border: "Viet Nam – China border", site: "Site",
    none_allowed: "Your role cannot move this case", kind: "Kind", note: "Note",
    add_note: "Add note", level: "Level", waterfall: "Waterfall", frames: "frames",
    licence: "Licence", plan: "Channel plan", emission: "Emission", added_by: "Added by",
    licensee: "Licensee", total: "Total", radius: "radius", connected: "connected",
    disconnected: "disconnected", upload: "Upload evidence",
    "status.new": "New", "status.triaged": "Triaged",
    "status.field_verification": "Field verification", "status.enforcement": "Enforcement",
    "status.closed": "Closed", "status.dismissed": "Dismissed",
    "class.licensed": "Licensed", "class.foreign": "Foreign", "class.exempt": "Exempt",
    "class.unknown": "Unknown",
    "kind.unlicensed_emission": "Unlicensed emission",
    "kind.frequency_out_of_tolerance": "Frequency out of tolerance",
    "kind.bandwidth_exceeded": "Bandwidth exceeded", "kind.off_channel_raster": "Off channel raster",
    "kind.licence_not_valid": "Licence not valid", "kind.power_exceeded": "Power exceeded",
    "kind.cross_border_over_trigger": "Cross-border over trigger",
    "kind.exempt_limit_exceeded": "Exempt limit exceeded",
    "sev.high": "high", "sev.medium": "medium", "sev.low": "low",
  },
};

function lang() { return localStorage.getItem("rfw.lang") || "vi"; }
function t(key) { const d = I18N[lang()] || I18N.vi; return d[key] ?? I18N.vi[key] ?? key; }
function setLang(l) { localStorage.setItem("rfw.lang", l); location.reload(); }
function applyI18n(root) {
  (root || document).querySelectorAll("[data-i18n]").forEach(e => { e.textContent = t(e.dataset.i18n); });
  document.documentElement.lang = lang();
}
function esc(s) {
  return String(s ?? "").replace(/[&<>"']/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
}
function mhz(f) { return f == null ? "-" : (f / 1e6).toFixed(4); }

const auth = {
  get access() { return sessionStorage.getItem("rfw.access"); },
  get refresh() { return sessionStorage.getItem("rfw.refresh"); },
  get user() { return sessionStorage.getItem("rfw.user"); },
  get role() { return sessionStorage.getItem("rfw.role"); },
  save(tok) {
    sessionStorage.setItem("rfw.access", tok.access_token);
    sessionStorage.setItem("rfw.refresh", tok.refresh_token);
    sessionStorage.setItem("rfw.user", tok.user);
    sessionStorage.setItem("rfw.role", tok.role);
  },
  clear() { ["access", "refresh", "user", "role"].forEach(k => sessionStorage.removeItem("rfw." + k)); },
};

function toLogin() {
  location.href = "/ui/login?next=" + encodeURIComponent(location.pathname + location.search);
}

async function refreshToken() {
  if (!auth.refresh) return false;
  const r = await fetch("/api/v1/auth/refresh", {method: "POST",
    headers: {"Content-Type": "application/json"}, body: JSON.stringify({refresh_token: auth.refresh})});
  if (!r.ok) return false;
  auth.save(await r.json());
  return true;
}

// fetch with the bearer token; one refresh on 401, then back to the login page.
async function api(path, opts = {}) {
  if (!auth.access) { toLogin(); throw new Error("login"); }
  const go = () => fetch(path, {...opts, headers: {...(opts.headers || {}), Authorization: "Bearer " + auth.access}});
  let r = await go();
  if (r.status === 401 && await refreshToken()) r = await go();
  if (r.status === 401) { auth.clear(); toLogin(); throw new Error("login"); }
  return r;
}
async function apiJson(path, opts) {
  const r = await api(path, opts);
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail));
  return body;
}
function wsUrl(path) {
  const u = new URL(path, location.href);
  u.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  u.searchParams.set("access_token", auth.access);
  return u.toString();
}

function renderHeader(active) {
  const h = document.createElement("header");
  const links = [["alarms", "/ui/alarms"], ["cases", "/ui/cases"], ["live", "/ui/live"]];
  h.innerHTML = `<strong>rfwatch</strong>` +
    links.map(([k, href]) => `<a href="${href}" data-nav="${k}" class="${k === active ? "active" : ""}" data-i18n="${k}"></a>`).join("") +
    `<span class="spacer"></span><span id="who">${esc(auth.user || "")} (${esc(auth.role || "")})</span>` +
    `<button id="lang-switch">${lang() === "vi" ? "English" : "Tiếng Việt"}</button>` +
    `<button id="logout" data-i18n="logout"></button>`;
  document.body.prepend(h);
  h.querySelector("#lang-switch").onclick = () => setLang(lang() === "vi" ? "en" : "vi");
  h.querySelector("#logout").onclick = () => { auth.clear(); location.href = "/ui/login"; };
  applyI18n();
}

function statusBadge(s) { return `<span class="badge ${esc(s)}" data-status="${esc(s)}">${esc(t("status." + s))}</span>`; }
