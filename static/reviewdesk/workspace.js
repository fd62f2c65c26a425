/* ReviewDesk workspace: SLA countdowns, j/k/Enter in ticket lists, copy buttons, auto-submit.
   No build step; htmx (vendored) refreshes the rows. */
(function () {
  "use strict";

  // Unit letters in the page's language (base.html: "d,h,m,s", in Chinese "天,小时,分,秒").
  var UNITS = ((document.body && document.body.getAttribute("data-time-units")) || "d,h,m,s").split(",");
  if (UNITS.length !== 4) UNITS = ["d", "h", "m", "s"];

  function fmt(ms) {
    var sign = ms < 0 ? "-" : "";
    var s = Math.floor(Math.abs(ms) / 1000);
    var d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
    if (d > 0) return sign + d + UNITS[0] + " " + h + UNITS[1];
    if (h > 0) return sign + h + UNITS[1] + " " + String(m).padStart(2, "0") + UNITS[2];
    return sign + m + UNITS[2] + " " + String(s % 60).padStart(2, "0") + UNITS[3];
  }

  // The server sets the state (ok / warning / breached, from sla.live_state); the browser only
  // counts down to the due time and turns a badge red once it passes.
  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-due]").forEach(function (el) {
      var due = Date.parse(el.getAttribute("data-due"));
      if (isNaN(due)) return;
      var left = due - now;
      if (!el.dataset.label) el.dataset.label = el.textContent.trim();
      el.textContent = el.dataset.label + " · " + fmt(left);
      if (left <= 0 && el.dataset.sla !== "breached") {
        el.classList.remove("sla-ok", "sla-warning");
        el.classList.add("sla-breached");
      }
    });
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      var due = Date.parse(el.getAttribute("data-countdown"));
      if (!isNaN(due)) el.textContent = "(" + fmt(due - now) + ")";
    });
  }

  // Keyboard: j / k move the selected row, Enter opens it; keys typed into fields are ignored.
  var selectedId = null;
  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-keyboard-nav] tr.ticket-row"));
  }
  function select(row) {
    rows().forEach(function (r) { r.classList.remove("selected"); });
    if (!row) return;
    row.classList.add("selected");
    selectedId = row.getAttribute("data-ticket-id");
    row.scrollIntoView({ block: "nearest" });
  }
  function typing(target) {
    var tag = (target.tagName || "").toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }
  document.addEventListener("keydown", function (e) {
    if (e.altKey || e.ctrlKey || e.metaKey || typing(e.target)) return;
    var all = rows();
    if (!all.length) return;
    var index = all.findIndex(function (r) { return r.classList.contains("selected"); });
    if (e.key === "j") { select(all[Math.min(index + 1, all.length - 1)]); e.preventDefault(); }
    else if (e.key === "k") { select(all[Math.max(index - 1, 0)]); e.preventDefault(); }
    else if (e.key === "Enter" && index >= 0) { window.location.href = all[index].getAttribute("data-href"); e.preventDefault(); }
  });
  document.addEventListener("click", function (e) {
    var row = e.target.closest && e.target.closest("tr.ticket-row");
    if (!row || e.target.closest("a, button, form, input, select")) return;
    window.location.href = row.getAttribute("data-href");
  });
  // A poll answered by the login page (the session ended) reloads the page instead of pasting
  // the login form into the table.
  document.addEventListener("htmx:beforeSwap", function (e) {
    var xhr = e.detail.xhr;
    if (xhr && xhr.responseURL && xhr.responseURL.indexOf("/login/") !== -1) {
      e.detail.shouldSwap = false;
      window.location.reload();
    }
  });
  // After htmx swaps fresh rows in, keep the selection on the same ticket. afterSettle, not
  // afterSwap: while settling htmx puts the new rows' own attributes (their class) back.
  document.addEventListener("htmx:afterSettle", function () {
    if (selectedId) {
      var row = document.querySelector('tr.ticket-row[data-ticket-id="' + selectedId + '"]');
      if (row) row.classList.add("selected");
    }
    tick();
  });

  document.addEventListener("click", function (e) {
    var button = e.target.closest && e.target.closest("[data-copy-target]");
    if (!button) return;
    var source = document.getElementById(button.getAttribute("data-copy-target"));
    if (!source) return;
    var done = function () { button.textContent = button.getAttribute("data-copied-label") || "OK"; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(source.value || source.textContent).then(done);
    } else {
      source.select();
      document.execCommand("copy");
      done();
    }
  });

  document.addEventListener("change", function (e) {
    if (e.target.matches && e.target.matches("[data-autosubmit]")) e.target.form.submit();
  });

  document.addEventListener("DOMContentLoaded", function () {
    tick();
    setInterval(tick, 1000);
  });
})();
