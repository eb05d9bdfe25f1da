// hkpost console: live updates pushed over a WebSocket (no reload), shipped with the package.
(function () {
  "use strict";
  var conn = document.getElementById("conn");
  var bdate = document.getElementById("bdate");
  var btime = document.getElementById("btime");
  var live = document.getElementById("live");
  var banner = document.getElementById("banner");
  var trades = function () { return document.getElementById("trades"); };
  var refreshTimer = null;
  var retry = 500;

  function fmtDate(d) { return d && d.length === 8 ? d.slice(0, 4) + "-" + d.slice(4, 6) + "-" + d.slice(6) : (d || ""); }
  function fmtTime(t) { return t && t.length === 6 ? t.slice(0, 2) + ":" + t.slice(2, 4) + ":" + t.slice(4) : (t || ""); }
  function setConn(up) {
    if (!conn) return;
    conn.dataset.state = up ? "up" : "down";
    conn.textContent = up ? "connected" : "disconnected";
  }
  function num(v) { return (typeof v === "number") ? v.toLocaleString("en-US") : (v === null || v === undefined ? "" : String(v)); }

  function tradeMatches(row) {
    var d = trades().dataset;
    return (!d.series || String(row.series_symbol).indexOf(d.series) >= 0) &&
      (!d.account || row.account_id === d.account) && (!d.side || row.side === d.side) &&
      (!d.state || row.state === d.state);
  }
  function showTrade(row, cells) {
    var table = trades();
    if (!table) return;
    var cols = JSON.parse(table.dataset.columns);
    var existing = table.querySelector('tr[data-trade="' + row.trade_number + '"]');
    var tr = document.createElement("tr");
    tr.dataset.trade = row.trade_number;
    tr.className = "fresh";
    // the server's own rendering of the row (money, prices with their decimals, times), else the raw values
    cols.forEach(function (c, i) {
      var td = document.createElement("td");
      td.textContent = cells ? cells[i] : num(row[c]);
      tr.appendChild(td);
    });
    if (existing) { existing.replaceWith(tr); return; }
    if (table.dataset.page !== "1" || !tradeMatches(row)) return;
    var body = table.tBodies[0];
    body.insertBefore(tr, body.firstChild);
    var count = document.getElementById("trade-count");
    if (count) count.textContent = String(Number(count.textContent) + 1);
  }
  function logLine(text) {
    if (!live) return;
    var li = document.createElement("li");
    li.textContent = text;
    live.insertBefore(li, live.firstChild);
    while (live.children.length > 15) live.removeChild(live.lastChild);
  }
  function refreshPanels() {
    // the page's tables again, from the server (each asks the gateway as this user)
    if (!document.querySelector("[data-panel]")) return;
    fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        if (doc.body && doc.body.dataset.seq) document.body.dataset.seq = doc.body.dataset.seq;
        doc.querySelectorAll("[data-panel]").forEach(function (fresh) {
          var old = document.getElementById(fresh.id);
          if (old && !old.contains(document.activeElement)) old.replaceWith(document.importNode(fresh, true));
        });
      });
  }
  function scheduleRefresh() {
    if (refreshTimer) clearTimeout(refreshTimer);
    refreshTimer = setTimeout(refreshPanels, 250);
  }
  function onMessage(ev) {
    var m = JSON.parse(ev.data);
    if (m.type === "hello") {
      // broadcasts that came between the page's rendering and this socket: ask the page again
      if (String(m.seq) !== document.body.dataset.seq) { document.body.dataset.seq = String(m.seq); scheduleRefresh(); }
    } else if (m.type === "clock") {
      if (bdate && m.business_date) {
        var shown = fmtDate(m.business_date);
        if (m.rolled && bdate.textContent !== shown && banner) {
          banner.hidden = false;
          banner.textContent = "Business date changed to " + shown + ".";
        }
        bdate.textContent = shown;
      }
      if (btime && m.business_time) btime.textContent = fmtTime(m.business_time);
      if (m.rolled) { logLine("BI30 business date " + m.business_date); scheduleRefresh(); }
    } else if (m.type === "status") {
      setConn(m.connected);
    } else if (m.type === "trade") {
      showTrade(m.row, m.cells);
      logLine(m.text);
    } else if (m.type === "broadcast") {
      logLine(m.text);
      scheduleRefresh();
    }
  }
  function connect() {
    var ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
    ws.onopen = function () { retry = 500; };
    ws.onmessage = onMessage;
    ws.onclose = function () {
      setConn(false);
      retry = Math.min(retry * 2, 10000);
      setTimeout(connect, retry);
    };
  }
  if (conn) connect();
}());
