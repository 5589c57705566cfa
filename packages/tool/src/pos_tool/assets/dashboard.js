/* The pos_workflow dashboard: renders the JSON embedded in the page, then refreshes it.
 * Numbers come from the same summary as `pos-workflow stats` and are formatted the same
 * way: counts as integers, everything else with 2 decimals, "-" for no value.
 * Text goes in with textContent only, never as HTML. */
(function () {
  "use strict";

  var COLUMNS = ["calls", "errors", "error_rate_percent", "mean_ms", "p50_ms", "p95_ms", "p99_ms"];
  var COUNTS = { calls: true, errors: true };
  var COLORS = ["#3b5bdb", "#e8590c", "#2b8a3e", "#c2255c", "#1098ad", "#7048e8", "#f59f00",
                "#495057", "#a61e4d", "#0b7285", "#5c940d", "#862e9c", "#d9480f", "#364fc7"];
  var STATUS_COLORS = { active: "#3b5bdb", paused: "#f59f00", completed: "#2b8a3e", failed: "#c92a2a", awaiting_approval: "#ae3ec9" };
  var charts = [];

  function cell(column, value) {
    if (value === null || value === undefined) return "-";
    return COUNTS[column] ? String(value) : Number(value).toFixed(2);
  }

  function el(tag, text, attrs) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (attrs) Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  function when(iso) { return iso ? iso.replace("T", " ").replace("+00:00", " UTC") : "-"; }

  function duration(seconds) {
    var left = Math.floor(seconds), parts = [];
    [["d", 86400], ["h", 3600], ["min", 60], ["s", 1]].forEach(function (u) {
      if (left >= u[1] || (u[0] === "s" && !parts.length)) {
        parts.push(Math.floor(left / u[1]) + " " + u[0]);
        left %= u[1];
      }
    });
    return parts.slice(0, 2).join(" ");
  }

  function renderHeader(data) {
    var s = data.summary;
    document.getElementById("subtitle").textContent = s
      ? "project " + s.project + " \u00b7 " + when(s.since) + " to " + when(s.until) +
        " \u00b7 " + (s.resolution_seconds === 60 ? "1-minute" : "1-hour") + " rollups"
      : "project " + data.project + " \u00b7 no metrics recorded yet";
    document.title = "pos_workflow monitoring: " + (s ? s.project : data.project);
    var nav = document.getElementById("ranges");
    clear(nav);
    data.ranges.forEach(function (r) {
      var a = el("a", r, { href: "?range=" + r });
      if (r === data.range) a.className = "current";
      nav.appendChild(a);
    });
  }

  function renderAlerts(data) {
    var box = document.getElementById("alerts-firing");
    clear(box);
    var firing = data.summary ? data.summary.alerts.firing : [];
    if (!firing.length) {
      box.appendChild(el("div", "No alerts firing.", { "class": "banner ok", id: "no-alerts" }));
      return;
    }
    firing.forEach(function (a) {
      var div = el("div", null, { "class": "banner bad", "data-alert": a.alert });
      div.appendChild(el("strong", a.alert));
      div.appendChild(document.createTextNode("since " + when(a.fired_at) + ": " + a.summary));
      box.appendChild(div);
    });
  }

  function summaryRow(label, values, total) {
    var tr = el("tr", null, { "data-action": label });
    if (total) tr.className = "total";
    tr.appendChild(el("td", label));
    COLUMNS.forEach(function (c) { tr.appendChild(el("td", cell(c, values[c]), { "data-field": c })); });
    return tr;
  }

  function renderSummary(data) {
    var body = document.querySelector("#summary tbody");
    clear(body);
    var s = data.summary;
    var facts = document.getElementById("facts");
    clear(facts);
    if (!s || !s.actions.length) {
      var td = el("td", "No tool calls recorded in this period.", { colspan: "8", "class": "empty" });
      var tr = el("tr");
      tr.appendChild(td);
      body.appendChild(tr);
    } else {
      s.actions.forEach(function (a) { body.appendChild(summaryRow(a.label, a, false)); });
      body.appendChild(summaryRow("all", s.total, true));
    }
    document.getElementById("percentile-note").textContent = s ? s.percentiles + "." : "";
    if (!s) return;
    var status = s.sessions.by_status, parts = [];
    Object.keys(status).forEach(function (k) { parts.push(k + " " + status[k]); });
    var errors = Object.keys(s.errors_by_type).map(function (k) { return k + " " + s.errors_by_type[k]; });
    [["sessions", parts.join(", ") || "not sampled"],
     ["checkpoints", s.checkpoints.passed + " passed, " + s.checkpoints.failed + " failed"],
     ["errors by type", errors.join(", ") || "none"],
     ["servers running", String(s.servers.filter(function (x) { return x.running; }).length)]
    ].forEach(function (f) {
      var span = el("span", f[0] + ": ");
      span.appendChild(el("b", f[1], { "data-fact": f[0] }));
      facts.appendChild(span);
    });
  }

  function renderTables(data) {
    var history = document.querySelector("#alert-history tbody");
    var servers = document.querySelector("#servers tbody");
    clear(history);
    clear(servers);
    var s = data.summary;
    if (!s) return;
    if (!s.alerts.history.length) {
      var tr = el("tr");
      tr.appendChild(el("td", "No alerts in this period.", { colspan: "5", "class": "empty" }));
      history.appendChild(tr);
    }
    s.alerts.history.forEach(function (a) {
      var tr = el("tr");
      tr.appendChild(el("td", a.alert, a.firing ? { "class": "alert-bad" } : null));
      tr.appendChild(el("td", when(a.fired_at)));
      tr.appendChild(el("td", a.firing ? "firing" : (a.resolved_at ? when(a.resolved_at) : "server stopped")));
      tr.appendChild(el("td", a.server));
      tr.appendChild(el("td", a.summary, { "class": "text" }));
      history.appendChild(tr);
    });
    s.servers.forEach(function (x) {
      var tr = el("tr");
      [x.server, x.running ? "running" : "stopped", x.version, duration(x.uptime_seconds),
       x.last_mb === null ? "-" : x.last_mb.toFixed(1), x.peak_mb === null ? "-" : x.peak_mb.toFixed(1),
       when(x.last_seen)].forEach(function (v) { tr.appendChild(el("td", v)); });
      servers.appendChild(tr);
    });
  }

  function chart(id, times, series, yLabel, threshold, logScale) {
    var box = document.getElementById(id);
    clear(box);
    var names = Object.keys(series);
    if (!times.length || !names.length) {
      box.appendChild(el("div", "No data in this period.", { "class": "empty" }));
      return;
    }
    var opts = {
      width: Math.max(320, box.clientWidth || 560),
      height: 240,
      scales: logScale ? { x: { time: true }, y: { distr: 3, log: 10 } } : { x: { time: true } },
      axes: [{}, { label: yLabel, size: 60 }],
      series: [{}],
      legend: { live: false }
    };
    var columns = [times];
    names.forEach(function (name, i) {
      var values = series[name].values;
      var present = values.filter(function (v) { return v !== null; }).length;
      // Points make sparse data (a few busy minutes in a day) visible; a dense line needs none.
      var spec = { label: name, stroke: series[name].color || COLORS[i % COLORS.length],
                   width: 2, spanGaps: false, points: { show: present < 120, size: 5 } };
      if (series[name].scale) {
        spec.scale = series[name].scale;
        opts.axes.push({ scale: spec.scale, side: 1, label: spec.scale, grid: { show: false }, size: 60 });
      }
      opts.series.push(spec);
      columns.push(series[name].values);
    });
    if (threshold !== null && threshold !== undefined) {
      opts.series.push({ label: "threshold " + threshold, stroke: "#c92a2a", dash: [6, 4], width: 1,
                         points: { show: false } });
      columns.push(times.map(function () { return threshold; }));
    }
    charts.push(new uPlot(opts, columns, box));
  }

  function renderCharts(data) {
    charts.forEach(function (c) { c.destroy(); });
    charts = [];
    var s = data.series, t = data.thresholds;
    function wrap(obj, colors) {
      var out = {};
      Object.keys(obj).forEach(function (k) { out[k] = { values: obj[k], color: colors && colors[k] }; });
      return out;
    }
    chart("chart-latency", s.times, wrap(s.latency_p95_ms), "ms (log)", t.latency_p95_ms, true);
    chart("chart-errors", s.times, {
      "error rate %": { values: s.error_rate_percent, color: "#c92a2a" },
      "calls": { values: s.calls, color: "#adb5bd", scale: "calls" }
    }, "error %", t.error_rate_percent);
    chart("chart-sessions", s.times, wrap(s.sessions, STATUS_COLORS), "sessions", null);
    chart("chart-memory", s.times, wrap(s.memory_mb), "MB", t.rss_mb);
  }

  var shownApprovals = null;

  function decide(a, p, verb, box) {
    var by = document.getElementById("approver").value.trim();
    var reason = box.querySelector("textarea").value.trim();
    var outcome = box.querySelector(".outcome");
    if (!by) { outcome.className = "outcome banner bad"; outcome.textContent = "Fill in your name first."; return; }
    if (verb === "reject" && !reason) {
      outcome.className = "outcome banner bad";
      outcome.textContent = "A rejection needs a reason: the agent reads it to fix the phase.";
      return;
    }
    box.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    fetch(verb === "approve" ? a.approve_url : a.reject_url, {
      method: "POST", cache: "no-store", credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ csrf_token: a.csrf_token, session_id: p.session_id, phase: p.phase,
                             by: by, reason: reason || null })
    })
      .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
      .then(function (res) {
        if (!res.ok) throw new Error(res.body.error + (res.body.remediation ? " " + res.body.remediation : ""));
        outcome.className = "outcome banner ok";
        outcome.textContent = res.body.decision + " by " + res.body.by + "; the session is " +
          res.body.session_status + " at phase " + res.body.current_phase + ".";
        box.setAttribute("data-decided", res.body.decision);
      })
      .catch(function (e) {
        outcome.className = "outcome banner bad";
        outcome.textContent = "Not recorded: " + e.message;
        box.querySelectorAll("button").forEach(function (b) { b.disabled = false; });
      });
  }

  function approvalBox(a, p) {
    var box = el("div", null, { "class": "approval", "data-session": p.session_id, "data-phase": p.phase });
    box.appendChild(el("h3", p.session_id + " \u00b7 phase " + p.phase));
    var facts = el("div", null, { "class": "facts" });
    facts.appendChild(el("span", "workflow " + p.workflow_type));
    facts.appendChild(el("span", "target " + p.target_file));
    facts.appendChild(el("span", "submitted " + when(p.requested_at)));
    box.appendChild(facts);
    box.appendChild(el("p", p.prompt, { "class": "prompt" }));
    var details = el("details");
    details.appendChild(el("summary", "evidence (sha256 " + String(p.evidence_sha256 || "").slice(0, 12) + "\u2026)" +
      (p.evidence_truncated ? ", first part; pos-workflow pending --session shows it whole" : "")));
    details.appendChild(el("pre", p.evidence_preview));
    box.appendChild(details);
    box.appendChild(el("textarea", null, { "aria-label": "reason (required to reject) or note",
      placeholder: "reason (required to reject), or a note for the approval", maxlength: "2000" }));
    ["approve", "reject"].forEach(function (verb) {
      var b = el("button", verb === "approve" ? "Approve" : "Reject", { type: "button", "data-verb": verb });
      b.addEventListener("click", function () { decide(a, p, verb, box); });
      box.appendChild(b);
    });
    box.appendChild(el("div", null, { "class": "outcome", role: "status" }));
    return box;
  }

  function renderApprovals(data) {
    var a = data.approvals, section = document.getElementById("approvals");
    if (!a) { section.hidden = true; return; }
    section.hidden = false;
    var name = document.getElementById("approver");
    if (shownApprovals === null && !name.value && a.default_approver) name.value = a.default_approver;
    var err = document.getElementById("approvals-error");
    clear(err);
    if (a.error) err.appendChild(el("div", "Cannot list the approvals: " + a.error, { "class": "banner bad" }));
    // Redrawn only when the list changes, so a refresh keeps what the person is typing.
    var key = JSON.stringify(a.pending.map(function (p) { return [p.session_id, p.phase, p.requested_at]; }));
    if (key === shownApprovals) return;
    shownApprovals = key;
    var list = document.getElementById("approvals-list");
    clear(list);
    if (!a.pending.length) list.appendChild(el("div", "Nothing awaits approval.", { "class": "empty", id: "no-approvals" }));
    a.pending.forEach(function (p) { list.appendChild(approvalBox(a, p)); });
  }

  function render(data) {
    renderHeader(data);
    renderApprovals(data);
    renderAlerts(data);
    renderSummary(data);
    renderTables(data);
    renderCharts(data);
    document.body.setAttribute("data-rendered", data.generated_at);
  }

  var data = JSON.parse(document.getElementById("dashboard-data").textContent);
  render(data);
  if (data.data_url && data.refresh_seconds && window.fetch) {
    setInterval(function () {
      fetch(data.data_url, { cache: "no-store" })
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
        .then(function (fresh) { data = fresh; render(fresh); })
        .catch(function () { /* keep the last good data; the next refresh tries again */ });
    }, data.refresh_seconds * 1000);
  }
})();
