// Silver Bell duty desk: the hub's sidebar panel (issue 21).
// A small self-contained web component, no build step. Home Assistant gives it
// `hass`; its data come from the silver_bell/desk/* websocket commands (live by
// subscription); its texts from desk.<language>.json beside this file.
const STATIC = "/silver_bell_static";
const LANGUAGES = ["en", "zh-Hans"];

function esc(value) {
  return String(value ?? "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

function languageOf(code) {
  return code && code.toLowerCase().startsWith("zh") ? "zh-Hans" : "en";
}

const STYLE = `
  :host { display: block; font-family: var(--paper-font-body1_-_font-family, sans-serif);
    color: var(--primary-text-color, #222); background: var(--primary-background-color, #fafafa);
    min-height: 100vh; }
  header { display: flex; align-items: center; gap: 8px; padding: 12px 16px;
    background: var(--app-header-background-color, #03a9f4); color: var(--app-header-text-color, #fff); }
  header h1 { font-size: 20px; margin: 0; flex: 1; font-weight: 400; }
  .live { font-size: 12px; opacity: .85; }
  main { padding: 12px; max-width: 900px; margin: 0 auto; }
  h2 { font-size: 16px; margin: 16px 4px 8px; }
  .card { background: var(--card-background-color, #fff); border-radius: 8px; margin: 0 0 12px;
    box-shadow: 0 1px 3px rgba(0,0,0,.2); border-left: 8px solid #999; padding: 12px; }
  .card.red { border-left-color: #d32f2f; } .card.orange { border-left-color: #f57c00; }
  .card.yellow { border-left-color: #fbc02d; }
  .top { display: flex; flex-wrap: wrap; gap: 6px 12px; align-items: baseline; }
  .kind { font-weight: 700; font-size: 18px; }
  .badge { font-size: 12px; padding: 2px 6px; border-radius: 4px; background: #eee; color: #333; }
  .badge.red { background: #d32f2f; color: #fff; } .badge.orange { background: #f57c00; color: #fff; }
  .badge.yellow { background: #fbc02d; color: #222; }
  .name { font-size: 17px; margin-top: 6px; } .muted { color: var(--secondary-text-color, #666); }
  .reported { margin: 6px 0; font-style: italic; }
  .late { color: #d32f2f; font-weight: 700; } .ok { color: #388e3c; }
  .actions { display: flex; flex-wrap: wrap; gap: 8px; margin-top: 10px; }
  button, a.button, select { font: inherit; min-height: 44px; padding: 0 14px; border-radius: 6px;
    border: 1px solid var(--divider-color, #ccc); background: var(--card-background-color, #fff);
    color: var(--primary-text-color, #222); }
  button.primary { background: var(--primary-color, #03a9f4); color: #fff; border: none; }
  a.button { display: inline-flex; align-items: center; text-decoration: none; }
  a.tel { white-space: nowrap; }
  details { margin-top: 8px; } summary { cursor: pointer; min-height: 32px; line-height: 32px; }
  ul { margin: 4px 0; padding-left: 20px; } li { margin: 2px 0; }
  form { display: flex; flex-direction: column; gap: 8px; margin-top: 10px; }
  textarea { font: inherit; min-height: 60px; padding: 6px; }
  .stats { display: grid; grid-template-columns: repeat(auto-fit, minmax(140px, 1fr)); gap: 8px; }
  .stat { background: var(--card-background-color, #fff); border-radius: 8px; padding: 8px;
    box-shadow: 0 1px 2px rgba(0,0,0,.15); }
  .stat b { display: block; font-size: 20px; }
  .message { padding: 24px; text-align: center; }
  table.months { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
  table.months th, table.months td { padding: 4px 6px; text-align: right;
    border-bottom: 1px solid var(--divider-color, #eee); }
  table.months th[scope="row"], table.months thead th:first-child { text-align: left; }
`;

class SilverBellDesk extends HTMLElement {
  constructor() {
    super();
    this.attachShadow({ mode: "open" });
    this._texts = {};
    this._language = null;
    this._data = null;
    this._error = null;
    this._unsub = null;
    this._connection = null;
    this._resolving = null; // {id, resolution, note}
    this._busy = new Set();
    this._pendingRender = false;
  }

  set hass(hass) {
    const first = !this._hass;
    this._hass = hass;
    const language = languageOf(hass.language);
    if (language !== this._language) {
      this._language = language;
      this._loadTexts(language).then(() => this._subscribe(true));
    } else if (first || hass.connection !== this._connection) {
      this._subscribe(true);
    }
  }

  get hass() {
    return this._hass;
  }

  set narrow(_value) {}
  set panel(_value) {}
  set route(_value) {}

  connectedCallback() {
    this._timer = setInterval(() => this._render(), 15000);
    if (this._hass && !this._unsub) this._subscribe(true);
    this._render();
  }

  disconnectedCallback() {
    clearInterval(this._timer);
    this._unsubscribe();
  }

  async _loadTexts(language) {
    const lang = LANGUAGES.includes(language) ? language : "en";
    try {
      const response = await fetch(`${STATIC}/desk.${lang}.json`);
      this._texts = await response.json();
    } catch (err) {
      this._texts = {};
    }
  }

  t(key, values = {}) {
    let text = this._texts[key] ?? key;
    for (const [name, value] of Object.entries(values)) {
      text = text.split(`{${name}}`).join(String(value));
    }
    return text;
  }

  // A text whose key is built from data (kind_fire, event_sent …); the code itself if unknown.
  tk(prefix, code) {
    const key = `${prefix}_${code}`;
    return key in this._texts ? this._texts[key] : code;
  }

  _unsubscribe() {
    if (this._unsub) {
      const unsub = this._unsub;
      this._unsub = null;
      Promise.resolve(unsub).then((fn) => fn && fn()).catch(() => {});
    }
  }

  _subscribe(force) {
    if (!this._hass || !this._hass.connection || (this._unsub && !force)) return;
    this._unsubscribe();
    this._connection = this._hass.connection;
    this._unsub = this._hass.connection
      .subscribeMessage((data) => {
        this._data = data;
        this._error = null;
        this._render();
      }, { type: "silver_bell/desk/subscribe", language: this._language })
      .catch((err) => {
        this._unsub = null;
        this._error = err && err.code ? err.code : String(err && err.message ? err.message : err);
        this._render();
      });
  }

  async _call(id, message) {
    this._busy.add(id);
    this._render();
    try {
      await this._hass.connection.sendMessagePromise(message);
    } catch (err) {
      alert(this.t("error", { message: (err && (err.message || err.code)) || err }));
    } finally {
      this._busy.delete(id);
      this._render();
    }
  }

  _duration(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    if (s < 60) return this.t("seconds", { n: s });
    if (s < 3600) return this.t("minutes", { n: Math.floor(s / 60) });
    return this.t("hours", { h: Math.floor(s / 3600), m: Math.floor((s % 3600) / 60) });
  }

  _clock(iso) {
    if (!iso) return "";
    return new Date(iso).toLocaleString(this._language, {
      hour: "2-digit", minute: "2-digit", second: "2-digit", month: "numeric", day: "numeric",
    });
  }

  _render() {
    if (this._pendingRender) return;
    const active = this.shadowRoot.activeElement;
    if (active && active.tagName === "TEXTAREA") {
      // Don't take the note away while it is being typed: render on blur.
      this._pendingRender = true;
      active.addEventListener("blur", () => { this._pendingRender = false; this._render(); }, { once: true });
      return;
    }
    this.shadowRoot.innerHTML = `<style>${STYLE}</style>${this._html()}`;
    this._wire();
  }

  _html() {
    const title = esc(this.t("title"));
    const head = `<header><h1>${title}</h1><span class="live">${
      this._unsub && this._data ? esc(this.t("live")) : ""}</span></header>`;
    if (this._error) {
      const key = this._error === "unauthorized" || this._error === "no_hub" ? this._error : null;
      const text = key ? this.t(key) : this.t("error", { message: this._error });
      return `${head}<main><div class="message">${esc(text)}</div></main>`;
    }
    if (!this._data) return `${head}<main><div class="message">${esc(this.t("loading"))}</div></main>`;
    const data = this._data;
    const incidents = data.incidents.length
      ? data.incidents.map((item) => this._incident(item, data)).join("")
      : `<div class="message muted">${esc(this.t("nothing_open"))}</div>`;
    return `${head}<main>
      <h2>${esc(this.t("open_incidents"))} (${data.incidents.length})</h2>
      ${incidents}
      ${this._problems(data)}
      ${this._onDuty(data)}
      ${this._stats(data)}
      ${this._months(data)}
    </main>`;
  }

  _tel(tel, label) {
    if (!tel) return "";
    return `<a class="button tel" href="${esc(tel)}">📞 ${esc(label)}</a>`;
  }

  _incident(item, data) {
    const kind = esc(this.tk("kind", item.kind));
    const colour = esc(item.colour);
    const busy = this._busy.has(item.id);
    let response;
    if (item.time_to_accept_s !== null && item.time_to_accept_s !== undefined) {
      const ok = item.within_target;
      response = `<span class="${ok ? "ok" : "late"}">${esc(this.t("accepted_in", {
        duration: this._duration(item.time_to_accept_s) }))} · ${esc(this.t(ok ? "within_target" : "over_target"))}</span>`;
    } else {
      const waited = (Date.now() - new Date(item.created_at).getTime()) / 1000;
      const seconds = Number.isFinite(waited) ? Math.max(waited, item.waiting_s || 0) : item.waiting_s;
      response = `<span class="${seconds > data.ack_target_s ? "late" : ""}">${esc(this.t("waiting", {
        duration: this._duration(seconds), target: data.ack_target_s }))}</span>`;
    }
    const accepted = item.accepted
      ? `${esc(this.t("accepted_by", { name: item.accepted.name }))} ${this._tel(item.accepted.tel, this.t("call"))}`
      : `<span class="muted">${esc(this.t("not_accepted"))}</span>`;
    const pages = item.pages.length
      ? `<ul>${item.pages.map((page) => `<li>${esc(this._clock(page.at))} · ${esc(page.person ? page.person.name : "")}
          · ${esc(page.channel || "")} · ${esc(this.tk("outcome", page.outcome))}
          ${page.error ? `<span class="muted">(${esc(page.error)})</span>` : ""}
          ${page.person && page.person.tel ? this._tel(page.person.tel, this.t("call")) : ""}</li>`).join("")}</ul>`
      : `<div class="muted">${esc(this.t("nobody_paged"))}</div>`;
    const timeline = `<ul>${item.timeline.map((entry) => `<li>${esc(this._clock(entry.at))} ·
        ${esc(this.tk("event", entry.event))} · ${esc(entry.actor ? entry.actor.name : "")}
        ${entry.detail ? `<span class="muted">${esc(entry.detail)}</span>` : ""}</li>`).join("")}</ul>`;
    const contacts = item.emergency_contacts.length
      ? `<details><summary>${esc(this.t("emergency_contacts"))}</summary><ul>${item.emergency_contacts
        .map((c) => `<li>${esc(c.name)} ${this._tel(c.tel, c.phone)}</li>`).join("")}</ul></details>`
      : "";
    const volunteers = data.volunteers.map((v) => `<option value="${esc(v.id)}">${esc(v.name)}</option>`).join("");
    // The family's acknowledgement does not take the incident: Accept stays.
    const accept = item.accepted && item.accepted.id !== "family"
      ? ""
      : `<button class="primary" data-action="accept" data-id="${esc(item.id)}" ${busy ? "disabled" : ""}>${esc(this.t("accept"))}</button>`;
    const resolving = this._resolving && this._resolving.id === item.id;
    const form = resolving ? this._resolveForm(item, data) : "";
    return `<section class="card ${colour}" data-incident="${esc(item.id)}">
      <div class="top">
        <span class="kind">${kind}</span>
        <span class="badge ${colour}">${esc(this.tk("colour", item.colour))}</span>
        ${item.test ? `<span class="badge">${esc(this.t("test"))}</span>` : ""}
        <span class="badge">${esc(this.tk("state", item.state))}</span>
        <span class="muted">${esc(this._clock(item.created_at))}</span>
      </div>
      <div class="name"><b>${esc(item.elder_name || item.household_id)}</b> ${this._tel(item.tel, item.phone || this.t("call"))}</div>
      <div class="muted">${esc(item.address || "")}</div>
      ${item.reported ? `<div class="reported">${esc(item.reported)}</div>` : ""}
      <div>${response}</div>
      <div>${accepted}</div>
      <div class="actions">
        ${accept}
        <button data-action="page" data-id="${esc(item.id)}" ${busy ? "disabled" : ""}>${esc(this.t("page_again"))}</button>
        <select data-assign="${esc(item.id)}" aria-label="${esc(this.t("assign"))}">
          <option value="">${esc(this.t("assign"))}…</option>${volunteers}</select>
        <button data-action="resolve" data-id="${esc(item.id)}" ${busy ? "disabled" : ""}>${esc(this.t("resolve"))}</button>
      </div>
      ${form}
      <details><summary>${esc(this.t("paged"))} (${item.pages.length})</summary>${pages}</details>
      ${contacts}
      <details><summary>${esc(this.t("timeline"))}</summary>${timeline}</details>
    </section>`;
  }

  _resolveForm(item, data) {
    const state = this._resolving;
    const options = data.resolutions.map((code) => `<option value="${esc(code)}" ${
      code === state.resolution ? "selected" : ""}>${esc(this.tk("resolution", code))}</option>`).join("");
    return `<form data-form="${esc(item.id)}">
      <label>${esc(this.t("resolution"))} <select name="resolution">${options}</select></label>
      <textarea name="note" maxlength="500" placeholder="${esc(this.t("note"))}">${esc(state.note)}</textarea>
      <div class="actions">
        <button type="submit" class="primary">${esc(this.t("confirm_resolve"))}</button>
        <button type="button" data-action="cancel">${esc(this.t("cancel"))}</button>
      </div>
    </form>`;
  }

  _problems(data) {
    if (!data.problems.length) return "";
    const rows = data.problems.map((p) => {
      const state = p.offline
        ? (p.last_seen ? this.t("offline_since", { when: this._clock(p.last_seen) }) : this.t("never_heard"))
        : "";
      const faults = p.faults.filter((f) => f).join("; ");
      return `<li><b>${esc(p.elder_name)}</b> ${esc(state)} ${esc(faults)}</li>`;
    }).join("");
    return `<h2>${esc(this.t("problems"))} (${data.problems.length})</h2><div class="card"><ul>${rows}</ul></div>`;
  }

  _onDuty(data) {
    const rows = data.on_duty.length
      ? `<ul>${data.on_duty.map((p) => `<li>${esc(p.name)} ${this._tel(p.tel, this.t("call"))}</li>`).join("")}</ul>`
      : `<div class="muted">${esc(this.t("nobody_on_duty"))}</div>`;
    return `<h2>${esc(this.t("on_duty"))}</h2><div class="card">${rows}</div>`;
  }

  _stats(data) {
    const s = data.statistics;
    const median = s.median_ack_seconds === null ? "–" : this._duration(s.median_ack_seconds);
    const within = s.ack_within_target_pct === null ? "–" : `${Math.round(s.ack_within_target_pct)} %`;
    const stat = (label, value) => `<div class="stat"><span class="muted">${esc(label)}</span><b>${esc(value)}</b></div>`;
    return `<h2>${esc(this.t("statistics"))}</h2><div class="stats">
      ${stat(this.t("stat_open"), s.open)}${stat(this.t("stat_today"), s.today)}
      ${stat(this.t("stat_median"), median)}${stat(this.t("stat_within"), within)}</div>`;
  }

  _months(data) {
    const months = data.months || [];
    if (!months.some((m) => m.incidents)) {
      return `<h2>${esc(this.t("months"))}</h2><div class="card muted">${esc(this.t("months_none"))}</div>`;
    }
    const locale = this._language === "zh-Hans" ? "zh-CN" : "en";
    const label = (key) => {
      const [year, month] = key.split("-").map(Number);
      return new Date(Date.UTC(year, month - 1, 1)).toLocaleDateString(locale, {
        year: "numeric", month: "short", timeZone: "UTC" });
    };
    const dash = (value, show) => (value === null || value === undefined ? "–" : show(value));
    const rows = months.slice().reverse().map((m) => `<tr><th scope="row">${esc(label(m.month))}</th>
      <td>${esc(m.incidents)}</td>
      <td>${esc(dash(m.median_ack_seconds, (v) => this._duration(v)))}</td>
      <td>${esc(dash(m.ack_within_target_pct, (v) => `${Math.round(v)} %`))}</td>
      <td>${esc(dash(m.survey_average, (v) => v.toFixed(1)))}</td></tr>`).join("");
    return `<h2>${esc(this.t("months"))}</h2><div class="card"><table class="months">
      <thead><tr><th scope="col">${esc(this.t("month_month"))}</th>
      <th scope="col">${esc(this.t("month_incidents"))}</th>
      <th scope="col">${esc(this.t("month_median"))}</th>
      <th scope="col">${esc(this.t("month_within"))}</th>
      <th scope="col">${esc(this.t("month_survey"))}</th></tr></thead>
      <tbody>${rows}</tbody></table></div>`;
  }

  _wire() {
    const root = this.shadowRoot;
    root.querySelectorAll("button[data-action]").forEach((button) => {
      button.addEventListener("click", (event) => {
        const id = button.dataset.id;
        const action = button.dataset.action;
        if (action === "accept") {
          this._call(id, { type: "silver_bell/desk/acknowledge", incident_id: id });
        } else if (action === "page") {
          this._call(id, { type: "silver_bell/desk/page_again", incident_id: id });
        } else if (action === "resolve") {
          const codes = this._data ? this._data.resolutions : [];
          this._resolving = { id, resolution: codes.includes("resident_ok") ? "resident_ok" : codes[0], note: "" };
          this._render();
        } else if (action === "cancel") {
          event.preventDefault();
          this._resolving = null;
          this._render();
        }
      });
    });
    root.querySelectorAll("select[data-assign]").forEach((select) => {
      select.addEventListener("change", () => {
        const id = select.dataset.assign;
        if (select.value) {
          this._call(id, { type: "silver_bell/desk/page_again", incident_id: id, volunteer_id: select.value });
        }
      });
    });
    root.querySelectorAll("form[data-form]").forEach((form) => {
      const id = form.dataset.form;
      form.elements.resolution.addEventListener("change", () => {
        this._resolving.resolution = form.elements.resolution.value;
      });
      form.elements.note.addEventListener("input", () => {
        this._resolving.note = form.elements.note.value;
      });
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        const message = {
          type: "silver_bell/desk/resolve",
          incident_id: id,
          resolution: form.elements.resolution.value,
        };
        const note = form.elements.note.value.trim();
        if (note) message.note = note;
        this._resolving = null;
        this._call(id, message);
      });
    });
  }
}

if (!customElements.get("silver-bell-desk")) {
  customElements.define("silver-bell-desk", SilverBellDesk);
}
