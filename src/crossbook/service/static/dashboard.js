// crossbook's built-in dashboard: hand-written, no build step. The token comes from the URL
// fragment (#token=...), which the browser never sends to the server; every API call carries it
// as a bearer token, and the WebSocket's first message is {"op": "auth", "token": ...}.
"use strict";

(() => {
  const BOOK_DEPTH = 20;
  const LATENCY_POINTS = 150;
  const EVERY = { books: 1000, metrics: 2000, stats: 3000, health: 2000, alerts: 10000, mid: 2000, funding: 15000, leases: 2000 };
  const MID_CANDLES = 60; // the consolidated mid's 1m candles drawn
  const ROUTES_SHOWN = 20;
  const CLOSE_UNAUTHORIZED = 4401; // the stream's close code for a wrong token

  const $ = (id) => document.getElementById(id);
  const token = new URLSearchParams(location.hash.slice(1)).get("token") || "";

  const state = {
    symbols: [],
    symbol: "",
    health: null,
    prices: {},            // symbol -> the latest prices message
    connected: {},         // venue -> {feed: 0|1} from /metrics
    messages: {},          // venue -> messages received, from /metrics
    messageRate: {},       // venue -> msg/s over the last scrape interval
    latencyMs: {},         // venue -> mean latency over the last scrape interval (ms)
    lastScrape: null,      // {at, messages, latencySum, latencyCount}
    latencySeries: null,   // {venues, x: [], ys: [[]...]}
    routes: [],
    alerts: new Map(),
    refused: false,
    locked: "",            // why the token's panels are empty, once the token is missing or refused
    socket: null,
    socketOpen: false,
    retryMs: 500,
  };

  // ---- numbers, always with units ------------------------------------------------------------

  const formatters = new Map();
  function num(x, maxDigits = 8, minDigits = 0) {
    if (x === null || x === undefined || x === "" || Number.isNaN(Number(x))) return "–";
    const key = `${minDigits}:${maxDigits}`;
    if (!formatters.has(key)) {
      formatters.set(key, new Intl.NumberFormat("en-US", { minimumFractionDigits: minDigits, maximumFractionDigits: maxDigits }));
    }
    return formatters.get(key).format(Number(x));
  }
  const decimals = (values) => Math.min(8, Math.max(0, ...values.map((v) => ((String(v).split(".")[1] || "").length))));
  const digits = { price: 2, size: 4 };
  const price = (x) => num(x, digits.price, digits.price);
  const size = (x) => num(x, digits.size, digits.size);
  const withUnit = (x, unit, maxDigits = 8, minDigits = 0) => (num(x, maxDigits, minDigits) === "–" ? "–" : `${num(x, maxDigits, minDigits)} ${unit}`);
  const bps = (x) => num(x, 2, 2);
  const base = (symbol) => (symbol || "").split("-")[0] || "";
  const quote = (symbol) => (symbol || "").split("-")[1] || "";
  const clock = (at) => {
    const d = at ? new Date(typeof at === "number" ? (at < 1e12 ? at * 1000 : at) : at) : new Date();
    return Number.isNaN(d.getTime()) ? "–" : d.toLocaleTimeString("en-GB");
  };
  const stamp = (at) => (at ? new Date(at * 1000).toLocaleString("en-GB") : "–"); // epoch seconds, with the date
  const money = (byCurrency, digits = 4) => {
    const parts = Object.entries(byCurrency || {}).filter(([, v]) => v !== null && v !== undefined);
    return parts.length ? parts.map(([cur, v]) => withUnit(v, cur, digits)).join(", ") : "–";
  };

  // ---- DOM (data only ever goes in as text) -------------------------------------------------------

  function el(tag, text, cls, attrs) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    return node;
  }
  const pill = (text, kind = text) => el("span", text, `pill state-${String(kind).replace(/[^a-z_]/gi, "")}`);
  function td(content, cls, field) {
    const cell = el("td", typeof content === "object" && content !== null ? null : content, cls);
    if (typeof content === "object" && content !== null) cell.append(...(Array.isArray(content) ? content : [content]));
    if (field) cell.dataset.field = field;
    return cell;
  }
  function fillBody(tableId, rows, emptyText) {
    const body = $(tableId).tBodies[0];
    if (!rows.length) {
      const cols = $(tableId).tHead.rows[0].cells.length;
      body.replaceChildren(el("tr", null, "placeholder"));
      body.rows[0].append(el("td", emptyText, null, { colspan: String(cols) }));
      return;
    }
    body.replaceChildren(...rows);
  }

  function setStatus(text, kind) {
    const status = $("status");
    status.textContent = text;
    status.className = `status ${kind}`;
  }
  function showBanner(text, code) {
    const banner = $("banner");
    banner.replaceChildren(el("span", text));
    if (code) banner.append(" ", el("code", code));
    banner.hidden = false;
  }
  const touched = () => { $("updated").textContent = `updated ${clock()}`; };

  // ---- the API --------------------------------------------------------------------------------

  class Refused extends Error {}

  async function api(path) {
    if (!token || state.refused) throw new Refused(path);
    const response = await fetch(path, { headers: { Authorization: `Bearer ${token}` }, cache: "no-store" });
    if (response.status === 401) {
      tokenRefused();
      throw new Refused(path);
    }
    if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
    return response.json();
  }

  function tokenRefused() {
    if (state.refused) return;
    state.refused = true;
    if (state.socket) state.socket.close();
    setStatus("token refused", "down");
    showBanner("The service refused this page's token (401). Open the dashboard URL `crossbook serve` printed when it started " +
      "(the token is also in its token file):", `${location.origin}/#token=…`);
    lockPanels("needs a valid token");
  }

  // the panels fed by the authenticated API say why they are empty
  function lockPanels(why) {
    state.locked = why;
    for (const id of ["bids", "asks", "stats", "routes", "alerts", "funding", "funding-spreads"]) fillBody(id, [], why);
    $("depth-chart").replaceChildren(el("div", why, "note"));
    $("mid-chart").replaceChildren(el("div", why, "note"));
  }

  // every poll runs one request at a time, and a failure shows in the status, not the console
  function every(ms, task) {
    let busy = false;
    const tick = async () => {
      if (busy) return;
      busy = true;
      try {
        await task();
      } catch (error) {
        if (!(error instanceof Refused)) setStatus(`retrying: ${error.message}`, "connecting");
      } finally {
        busy = false;
      }
    };
    tick();
    return setInterval(tick, ms);
  }

  // ---- venues: /health, the prices channel and /metrics -------------------------------------------

  function onHealth(health) {
    state.health = health;
    const symbols = new Set();
    for (const venue of Object.values(health.venues || {})) for (const s of Object.keys(venue.books || {})) symbols.add(s);
    if (symbols.size && [...symbols].join() !== state.symbols.join()) setSymbols([...symbols]);
    if (!state.refused && token) setStatus(state.socketOpen ? "live" : "connecting…", state.socketOpen ? "live" : "connecting");
    if (!state.latencySeries) startLatencyChart(Object.keys(health.venues || {}).sort());
    renderVenues();
    renderBus(health.bus);
    touched();
  }

  // a desk on the bus: which feed process publishes each venue, and how late its frames arrive
  function renderBus(bus) {
    $("bus-panel").hidden = !bus;
    if (!bus) return;
    fillBody("bus-venues", bus.venues.map((v) => {
      const tr = el("tr");
      tr.dataset.venue = v.venue;
      tr.append(td(v.venue, null, "venue"),
        td(v.publishers.length ? v.publishers.join(", ") : pill("no publisher", "down"), null, "publishers"),
        td(num(v.lag_ms, 1, 1), "num", "lag"), td(num(v.max_lag_ms, 1, 1), "num", "max-lag"));
      return tr;
    }), "no venue on the bus");
    fillBody("bus-publishers", bus.publishers.map((p) => {
      const tr = el("tr");
      tr.append(td(p.name, null, "process"), td(num(p.heartbeat_age_s, 1, 1), "num", "age"),
        td(Object.entries(p.venues).map(([venue, n]) => `${venue} (${n})`).join(", "), null, "venues"));
      return tr;
    }), "no feed process heard");
    $("bus-summary").textContent = `${bus.connected ? "connected" : "disconnected"}, ${bus.publishers.length} process(es), ` +
      `${bus.counters.frames} frames, ${bus.counters.gaps_healed} heals`;
  }

  // a service on the bus: which process holds each account's lease (only that one trades it), since
  // when, and what this process does with it
  function leaseHere(lease) {
    if (lease.state === "held") return lease.ready ? pill("ready: trades it", "live") : pill("held: reconciling", "syncing");
    if (lease.state === "waiting") return pill("waiting", "pending");
    return pill(lease.state, "down"); // lost, released
  }

  function renderLeases(body) {
    $("lease-panel").hidden = !body.process;
    if (!body.process) return;
    fillBody("leases", body.leases.map((lease) => {
      const tr = el("tr");
      tr.dataset.account = `${lease.venue}/${lease.account}`;
      tr.dataset.state = lease.state;
      tr.dataset.ready = lease.ready ? "1" : "0";
      const holder = lease.holder ? `${lease.holder.holder} (pid ${lease.holder.pid} on ${lease.holder.host})` : "nobody";
      tr.append(td(tr.dataset.account, null, "account"), td(holder, null, "holder"),
        td(stamp(lease.holder && lease.holder.since), null, "since"), td(leaseHere(lease), null, "here"),
        td(stamp(lease.reconciled_at), null, "reconciled"));
      return tr;
    }), "no account configured");
    const ttl = body.leases.length ? `, leases last ${num(body.leases[0].ttl, 1)} s` : "";
    $("lease-summary").textContent = `this process: ${body.process}${ttl}`;
  }

  function setSymbols(symbols) {
    state.symbols = symbols;
    const select = $("symbol");
    select.replaceChildren(...symbols.map((s) => el("option", s, null, { value: s })));
    if (!symbols.includes(state.symbol)) state.symbol = symbols[0];
    select.value = state.symbol;
    onSymbol();
    if (state.socketOpen) subscribe();
  }

  function onSymbol() {
    $("book-symbol").textContent = state.symbol;
    for (const th of document.querySelectorAll("th[data-unit]")) {
      const unit = th.dataset.unit === "base" ? base(state.symbol) : quote(state.symbol);
      th.textContent = `${th.textContent.split(" (")[0]} (${unit})`;
    }
    startDepthChart();
    renderBook(null);
    renderVenues();
    if (state.locked) lockPanels(state.locked);
  }

  function feedCell(venue, info) {
    const feeds = state.connected[venue];
    if (feeds && Object.keys(feeds).length) {
      return Object.keys(feeds).sort().map((feed) => {
        const p = pill(feed, feeds[feed] ? "up" : "down");
        p.title = feed;
        return p;
      });
    }
    const connected = typeof info.connected === "object" ? Object.values(info.connected || {}).every(Boolean) : info.connected;
    return [pill(connected ? "up" : "down")];
  }

  function renderVenues() {
    const venues = (state.health && state.health.venues) || {};
    const prices = (state.prices[state.symbol] || {}).venues || {};
    const rows = Object.keys(venues).sort().map((venue) => {
      const info = venues[venue];
      const books = Object.entries(info.books || {}).map(([symbol, bookState]) => {
        const p = pill(bookState === "live" ? symbol : `${symbol} ${bookState}`, bookState);
        p.title = `${symbol}: ${bookState}`;
        return p;
      });
      const top = prices[venue] || {};
      const tr = el("tr");
      tr.dataset.venue = venue;
      tr.dataset.ready = info.ready ? "1" : "0";
      const unlisted = !books.length && !info.down;  // the venue lists none of the followed symbols
      tr.append(
        td(venue, null, "venue"),
        td(unlisted ? "–" : feedCell(venue, info), null, "feed"),
        td(info.down ? pill(`down: ${info.down}`, "down") : unlisted ? el("span", "lists none of the symbols", "muted") : books, null, "books"),
        td(price(top.bid), "num bid", "bid"),
        td(price(top.ask), "num ask", "ask"),
        td(num(state.latencyMs[venue], 1, 1), "num", "latency"),
        td(num(state.messages[venue], 0), "num", "messages"),
        td(num(state.messageRate[venue], 0), "num", "rate"),
      );
      return tr;
    });
    fillBody("venues", rows, "connecting…");
    const ready = Object.values(venues).filter((v) => v.ready).length;
    const following = Object.values(venues).filter((v) => Object.keys(v.books || {}).length || v.down).length;
    $("venues-summary").textContent = rows.length ? `${ready} of ${following} ready` +
      (following < rows.length ? `, ${rows.length - following} listing none of the symbols` : "") : "";
  }

  function parseMetrics(text) {
    const samples = [];
    for (const line of text.split("\n")) {
      if (!line || line.startsWith("#")) continue;
      const m = /^([A-Za-z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
      if (!m) continue;
      const labels = {};
      for (const l of (m[2] || "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
      samples.push({ name: m[1], labels, value: Number(m[3]) });
    }
    return samples;
  }

  async function pollMetrics() {
    const response = await fetch("/metrics", { cache: "no-store" });
    if (!response.ok) throw new Error(`/metrics: HTTP ${response.status}`);
    const now = Date.now() / 1000;
    const messages = {}, latencySum = {}, latencyCount = {}, connected = {};
    const add = (into, venue, value) => { into[venue] = (into[venue] || 0) + value; };
    for (const s of parseMetrics(await response.text())) {
      const venue = s.labels.venue;
      if (!venue) continue;
      if (s.name === "crossbook_feed_messages_total") add(messages, venue, s.value);
      else if (s.name === "crossbook_feed_latency_seconds_sum") add(latencySum, venue, s.value);
      else if (s.name === "crossbook_feed_latency_seconds_count") add(latencyCount, venue, s.value);
      else if (s.name === "crossbook_feed_connected") (connected[venue] = connected[venue] || {})[s.labels.feed || "feed"] = s.value;
    }
    const last = state.lastScrape;
    for (const venue of Object.keys(messages)) {
      if (last && venue in last.messages) state.messageRate[venue] = Math.max(0, messages[venue] - last.messages[venue]) / (now - last.at);
    }
    for (const venue of Object.keys(latencyCount)) {
      const dCount = latencyCount[venue] - ((last && last.latencyCount[venue]) || 0);
      const dSum = latencySum[venue] - ((last && last.latencySum[venue]) || 0);
      if (dCount > 0) state.latencyMs[venue] = (1000 * dSum) / dCount;
    }
    state.messages = messages;
    state.connected = connected;
    state.lastScrape = { at: now, messages, latencySum, latencyCount };
    pushLatency(now);
    renderVenues();
  }

  // ---- charts (uPlot) -----------------------------------------------------------------------------

  const COLORS = ["#4e9af1", "#f0a030", "#26a69a", "#ef5350", "#ab47bc", "#8d6e63", "#26c6da", "#d4e157", "#ec407a", "#78909c", "#ffca28", "#5c6bc0"];
  const axisStyle = { stroke: "#8893a0", grid: { stroke: "#2a333d", width: 1 }, ticks: { stroke: "#2a333d", width: 1 } };
  const charts = {};

  function chartMissing(id) {
    if (typeof uPlot !== "undefined") return false;
    $(id).replaceChildren(el("div", "the chart library (npm uplot) is not installed: run `npm ci` at the project root", "note"));
    return true;
  }
  const width = (id) => Math.max(200, $(id).clientWidth);

  function startLatencyChart(venues) {
    if (!venues.length || chartMissing("latency-chart")) return;
    state.latencySeries = { venues, x: [], ys: venues.map(() => []) };
    $("latency-chart").replaceChildren();
    charts.latency = new uPlot({
      width: width("latency-chart"), height: 180,
      title: "feed latency, exchange event → receive (ms), mean per 2 s",
      legend: { live: false },
      scales: { x: { time: true, range: (u, min, max) => [Math.min(min, max - 60), max] }, y: { range: (u, min, max) => [0, Math.max(1, max * 1.1)] } },
      axes: [{ ...axisStyle }, { ...axisStyle, label: "ms", values: (u, ticks) => ticks.map((t) => `${num(t, 1)} ms`), size: 70 }],
      series: [{}, ...venues.map((venue, i) => ({ label: venue, stroke: COLORS[i % COLORS.length], width: 1.5,
        value: (u, v) => (v === null ? "–" : `${num(v, 1, 1)} ms`) }))],
    }, [[], ...venues.map(() => [])], $("latency-chart"));
  }

  function pushLatency(now) {
    const series = state.latencySeries;
    if (!series || !charts.latency) return;
    series.x.push(now);
    series.venues.forEach((venue, i) => series.ys[i].push(state.latencyMs[venue] ?? null));
    if (series.x.length > LATENCY_POINTS) {
      series.x.shift();
      series.ys.forEach((y) => y.shift());
    }
    // one point gives uPlot no span to scale a time axis by (it spreads it over years): wait for two
    if (series.x.length >= 2) charts.latency.setData([series.x, ...series.ys]);
  }

  function startDepthChart() {
    if (chartMissing("depth-chart")) return;
    if (charts.depth) charts.depth.destroy();
    $("depth-chart").replaceChildren();
    const stepped = uPlot.paths && uPlot.paths.stepped ? uPlot.paths.stepped({ align: 1 }) : undefined;
    const baseUnit = base(state.symbol), quoteUnit = quote(state.symbol);
    const side = (label, color) => ({ label: `${label} (${baseUnit})`, stroke: color, fill: `${color}33`, width: 1.5, paths: stepped,
      spanGaps: true, points: { show: false } });
    charts.depth = new uPlot({
      width: width("depth-chart"), height: 220,
      title: `depth: cumulative size (${baseUnit}) by price (${quoteUnit})`,
      scales: { x: { time: false } },
      legend: { live: false },
      cursor: { points: { show: false } },
      axes: [
        { ...axisStyle, values: (u, ticks) => ticks.map((t) => num(t, 2)), label: `price (${quoteUnit})` },
        { ...axisStyle, values: (u, ticks) => ticks.map((t) => num(t, 4)), label: `size (${baseUnit})`, size: 70 },
      ],
      series: [{ label: "price" }, side("bids", "#26a69a"), side("asks", "#ef5350")],
    }, [[], [], []], $("depth-chart"));
  }

  function depthData(bids, asks) {
    // one ascending price axis (a crossed book's sides overlap): each side cumulated from its best
    // level outwards, null at the other side's prices
    const at = new Map();
    const cumulate = (levels, slot) => {
      let total = 0;
      for (const l of levels) {
        total += l.amount;
        if (!at.has(l.price)) at.set(l.price, [null, null]);
        at.get(l.price)[slot] = total;
      }
    };
    cumulate(bids, 0);
    cumulate(asks, 1);
    const x = [...at.keys()].sort((p, q) => p - q);
    return [x, x.map((p) => at.get(p)[0]), x.map((p) => at.get(p)[1])];
  }

  // ---- the consolidated book: GET /books/{symbol} and the prices channel -------------------------

  function levels(raw) {
    return (raw || []).map((l) => (Array.isArray(l)
      ? { price: Number(l[0]), amount: Number(l[1]), venue: l[2] }
      : { price: Number(l.price), amount: Number(l.amount ?? l.size), venue: l.venue }))
      .filter((l) => Number.isFinite(l.price) && Number.isFinite(l.amount));
  }

  async function pollBook() {
    if (!state.symbol) return;
    const symbol = state.symbol;
    const book = await api(`/books/${encodeURIComponent(symbol)}?depth=${BOOK_DEPTH}`);
    if (symbol === state.symbol) renderBook(book);
  }

  function renderBook(book) {
    const bids = levels(book && book.bids);
    const asks = levels(book && book.asks);
    if (bids.length || asks.length) {
      digits.price = decimals([...bids, ...asks].map((l) => l.price));
      digits.size = decimals([...bids, ...asks].map((l) => l.amount));
    }
    const ladderRow = (l, side) => {
      const tr = el("tr");
      const cells = [td(l.venue || "–"), td(size(l.amount), "num"), td(price(l.price), `num ${side}`)];
      tr.append(...(side === "ask" ? cells.reverse() : cells));
      return tr;
    };
    fillBody("bids", bids.slice(0, 10).map((l) => ladderRow(l, "bid")), book ? "no live bid" : "connecting…");
    fillBody("asks", asks.slice(0, 10).map((l) => ladderRow(l, "ask")), book ? "no live ask" : "connecting…");
    // the tops from the same answer as the ladder, so the panel agrees with itself
    renderTops(bids[0] && { price: bids[0].price, venue: bids[0].venue }, asks[0] && { price: asks[0].price, venue: asks[0].venue });
    if (charts.depth) charts.depth.setData(depthData(bids, asks));
    if (book) touched();
  }

  function renderTops(bid, ask) {
    const unit = quote(state.symbol);
    $("best-bid").textContent = bid ? `${price(bid.price)} ${unit}` : "–";
    $("best-bid-venue").textContent = bid && bid.venue ? `on ${bid.venue}` : "";
    $("best-ask").textContent = ask ? `${price(ask.price)} ${unit}` : "–";
    $("best-ask-venue").textContent = ask && ask.venue ? `on ${ask.venue}` : "";
    const spread = $("spread");
    if (bid && ask) {
      const gap = ask.price - bid.price;
      const gapBps = (1e4 * gap) / ((ask.price + bid.price) / 2);
      spread.previousElementSibling.textContent = gap < 0 ? "crossed across venues by" : "spread";
      spread.textContent = `${price(Math.abs(gap))} ${unit} · ${bps(Math.abs(gapBps))} bps`;
      spread.className = gap < 0 ? "big worse" : "big";
    } else {
      spread.previousElementSibling.textContent = "spread";
      spread.textContent = "–";
    }
  }

  function onPrices(data) {
    state.prices[data.symbol] = data;
    if (data.symbol === state.symbol) renderVenues();
  }

  // ---- routes ---------------------------------------------------------------------------------------

  function savingsInQuote(r) {
    const best = Number(r.best_single_venue_all_in_price), paid = Number(r.all_in_avg_price), filled = Number(r.filled);
    if (!r.best_single_venue_all_in_price || !r.all_in_avg_price || !filled) return null;
    return (r.side === "sell" ? paid - best : best - paid) * filled;
  }

  // bps where positive is worse: red above 0.00, green below, plain at 0.00 (never "-0.00")
  function signed(x) {
    if (x === null || x === undefined) return td("–", "num");
    const rounded = Math.round(Number(x) * 100) / 100 || 0;
    const cell = td(bps(rounded), "num");
    if (rounded !== 0) cell.classList.add(rounded > 0 ? "worse" : "better");
    return cell;
  }

  function renderRoutes() {
    const rows = state.routes.slice(0, ROUTES_SHOWN).map(({ report: r, at }) => {
      const venues = [...new Set((r.children || r.plan || []).map((c) => c.venue))];
      const savings = savingsInQuote(r);
      const savingsBps = td(r.savings_bps === null || r.savings_bps === undefined ? "–" : bps(r.savings_bps), "num");
      const tr = el("tr");
      tr.append(td(clock(r.at || at)), td(r.symbol), td(r.side, r.side === "buy" ? "bid" : "ask"),
        td(`${num(r.filled)} / ${withUnit(r.amount, base(r.symbol))}`, "num"),
        td(withUnit(r.avg_price, quote(r.symbol)), "num"), td(pill(r.outcome)),
        signed(r.slippage_vs_arrival_bps), signed(r.slippage_vs_plan_bps), savingsBps,
        td(savings === null ? "–" : withUnit(savings, quote(r.symbol), 4), "num"), td(venues.join(", ") || "–"));
      return tr;
    });
    fillBody("routes", rows, "no route yet");
  }

  function onRoute(report, at) {
    state.routes.unshift({ report, at: at || Date.now() });
    state.routes.length = Math.min(state.routes.length, ROUTES_SHOWN);
    renderRoutes();
  }

  async function loadRoutes() {
    const body = await api(`/routes?limit=${ROUTES_SHOWN}`);
    const reports = Array.isArray(body) ? body : body.routes || [];
    state.routes = reports.map((r) => ({ report: r.report || r, at: r.at || null }));
    renderRoutes();
  }

  // ---- fees and volume: GET /stats ------------------------------------------------------------------

  async function pollStats() {
    const stats = await api("/stats");
    const venues = stats.venues || {};
    const rows = Object.keys(venues).sort().map((venue) => {
      const v = venues[venue];
      const orders = v.orders || {};
      const total = Object.values(orders).reduce((s, n) => s + Number(n), 0);
      const ok = Number(orders.filled || 0) + Number(orders.partially_filled || 0);
      const volume = v.volume || {};
      const fees = v.fees || {};
      const feeBps = Object.keys(fees).filter((c) => Number(volume[c]) > 0).map((c) => `${bps((1e4 * fees[c]) / volume[c])} (${c})`);
      const tr = el("tr");
      tr.dataset.venue = venue;
      const slippage = v.slippage_bps || {};
      tr.append(td(venue), td(num(total, 0), "num"), td(total ? `${num((100 * ok) / total, 1, 1)} %` : "–", "num"),
        td(money(volume, 2), "num"), td(money(fees, 6), "num"), td(feeBps.join(", ") || "–", "num"),
        signed(slippage.arrival), signed(slippage.plan));
      return tr;
    });
    fillBody("stats", rows, "no order yet");
    const count = (byKey) => Object.values(byKey || {}).reduce((s, n) => s + Number(n), 0);
    const parts = [`routes: ${num(count(stats.routes), 0)}`];
    if (Object.keys(stats.savings_quote || {}).length) parts.push(`saved against the best single venue: ${money(stats.savings_quote, 4)}`);
    if (stats.savings_bps_mean !== null && stats.savings_bps_mean !== undefined) parts.push(`mean savings ${bps(stats.savings_bps_mean)} bps`);
    parts.push(`arbitrage opportunities: ${num(count(stats.opportunities), 0)}`);
    if (Object.keys(stats.arbitrage_profit || {}).length) parts.push(`realised profit: ${money(stats.arbitrage_profit, 4)}`);
    $("stats-summary").textContent = parts.join(" · ");
  }

  // ---- alerts: GET /alerts and the alerts channel ------------------------------------------------

  const alertKey = (a) => `${a.name}|${JSON.stringify(a.labels || {})}`;

  function renderAlerts() {
    const open = [...state.alerts.values()].sort((a, b) => (a.state === b.state ? a.name.localeCompare(b.name) : a.state === "firing" ? -1 : 1));
    const rows = open.map((a) => {
      const tr = el("tr");
      tr.append(td(a.name), td(pill(a.state)), td(a.severity || "–"),
        td(Object.entries(a.labels || {}).map(([k, v]) => `${k}=${v}`).join(" ") || "–"), td(a.summary || "–", "wrap"),
        td(num(a.value, 4), "num"), td(clock(a.since || a.at)));
      return tr;
    });
    fillBody("alerts", rows, "no alert open");
    const firing = open.filter((a) => a.state === "firing").length;
    $("alerts-summary").textContent = open.length ? `${firing} firing, ${open.length - firing} pending` : "";
  }

  function onAlert(event) {
    if (event.state === "resolved") state.alerts.delete(alertKey(event));
    else state.alerts.set(alertKey(event), event);
    renderAlerts();
  }

  async function pollAlerts() {
    const body = await api("/alerts");
    const active = Array.isArray(body) ? body : body.active || body.alerts || [];
    state.alerts = new Map(active.map((a) => [alertKey(a), a]));
    renderAlerts();
  }

  // ---- the stream -----------------------------------------------------------------------------------

  function subscribe() {
    state.socket.send(JSON.stringify({ op: "subscribe", channels: ["prices", "routes", "alerts", "health"], symbols: state.symbols }));
  }

  function connect() {
    if (!token || state.refused) return;
    const socket = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/stream`);
    state.socket = socket;
    socket.onopen = () => {
      state.socketOpen = true;
      state.retryMs = 500;
      socket.send(JSON.stringify({ op: "auth", token }));
      subscribe();
      setStatus("live", "live");
      loadRoutes().catch(() => {});
    };
    socket.onmessage = (message) => {
      const msg = JSON.parse(message.data);
      if (msg.error) {
        setStatus(`stream: ${msg.error}`, "down");
        return;
      }
      const handle = { prices: onPrices, routes: (d) => onRoute(d), alerts: onAlert, health: onHealth }[msg.channel];
      if (handle) handle(msg.data);
    };
    socket.onclose = (event) => {
      state.socketOpen = false;
      if (state.refused) return;
      if (event.code === CLOSE_UNAUTHORIZED) {
        tokenRefused();
        return;
      }
      setStatus(`reconnecting in ${(state.retryMs / 1000).toFixed(1)} s…`, "connecting");
      setTimeout(connect, state.retryMs);
      state.retryMs = Math.min(5000, state.retryMs * 2);
    };
  }

  // ---- the consolidated mid: 1m candles drawn as SVG --------------------------------------------------

  const SVG = "http://www.w3.org/2000/svg";
  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = String(text);
    return node;
  }

  async function pollMid() {
    if (!state.symbol) return;
    const body = await api(`/mid-candles?symbol=${encodeURIComponent(state.symbol)}&limit=${MID_CANDLES}`);
    if (body.symbol === state.symbol) renderMid(body);
  }

  function renderMid(body) {
    const candles = body.candles || [];
    const unit = quote(body.symbol);
    if (!candles.length) {
      $("mid-summary").textContent = "";
      $("mid-chart").replaceChildren(el("div", "no mid yet: waiting for live books", "note"));
      return;
    }
    const last = candles[candles.length - 1];
    $("mid-summary").textContent = `${body.symbol}, ${body.interval} candles, last ${withUnit(last.close, unit, digits.price, digits.price)}`;
    const width = Math.max(320, $("mid-chart").clientWidth || 600), height = 220;
    const lows = candles.map((c) => c.low), highs = candles.map((c) => c.high);
    let lo = Math.min(...lows), hi = Math.max(...highs);
    if (hi - lo < 1e-9) { lo -= 0.5; hi += 0.5; }
    const label = (p) => `${num(p, digits.price, digits.price)} ${unit}`;
    const pad = { left: 16 + 7 * Math.max(label(hi).length, label(lo).length), right: 12, top: 10, bottom: 26 };
    const y = (p) => pad.top + (hi - p) / (hi - lo) * (height - pad.top - pad.bottom);
    const slot = (width - pad.left - pad.right) / Math.max(candles.length, 10);
    const chart = svg("svg", { width, height, viewBox: `0 0 ${width} ${height}`, role: "img",
      "aria-label": `${body.symbol} consolidated mid, ${body.interval} candles in ${unit}` });
    for (const p of [hi, (hi + lo) / 2, lo]) {
      chart.append(svg("line", { x1: pad.left, x2: width - pad.right, y1: y(p), y2: y(p), class: "grid" }));
      chart.append(svg("text", { x: pad.left - 6, y: y(p) + 4, "text-anchor": "end", class: "axis" },
        label(p)));
    }
    candles.forEach((c, i) => {
      const x = pad.left + slot * (i + 0.5);
      const up = c.close >= c.open;
      const cls = `candle ${up ? "up" : "down"}`;
      chart.append(svg("line", { x1: x, x2: x, y1: y(c.high), y2: y(c.low), class: cls }));
      const top = y(Math.max(c.open, c.close)), bottom = y(Math.min(c.open, c.close));
      const rect = svg("rect", { x: x - slot * 0.35, y: top, width: Math.max(1, slot * 0.7), height: Math.max(1, bottom - top), class: cls });
      rect.append(svg("title", {}, `${clock(c.open_time)} open ${price(c.open)} high ${price(c.high)} low ${price(c.low)} close ${price(c.close)} ${unit}`));
      chart.append(rect);
    });
    for (const i of [0, candles.length - 1]) {
      chart.append(svg("text", { x: pad.left + slot * (i + 0.5), y: height - 8, "text-anchor": "middle", class: "axis" },
        clock(candles[i].open_time).slice(0, 5)));
    }
    $("mid-chart").replaceChildren(chart);
  }

  // ---- funding across venues -------------------------------------------------------------------------

  const pct = (fraction, maxDigits = 4) => (fraction === null || fraction === undefined ? "–" : `${num(fraction * 100, maxDigits, 2)} %`);
  function until(at) {
    if (!at) return "–";
    const minutes = Math.max(0, Math.round((at * 1000 - Date.now()) / 60000));
    const utc = new Date(at * 1000).toISOString().slice(11, 16);  // venues schedule funding in UTC
    return `${utc} UTC (in ${Math.floor(minutes / 60)} h ${minutes % 60} min)`;
  }

  async function pollFunding() {
    renderFunding(await api("/funding"));
  }

  function renderFunding(board) {
    const lowest = {};
    for (const r of board.rates) lowest[r.symbol] = Math.min(lowest[r.symbol] ?? Infinity, r.annualized);
    fillBody("funding", board.rates.map((r) => {
      const row = el("tr");
      row.dataset.venue = r.venue;
      row.append(td(r.symbol), td(r.venue), td(`${pct(r.rate)} / ${num(r.interval_hours, 2)} h`, "num", "rate"),
        td(pct(r.annualized, 2), "num", "annualized"), td(until(r.next_time), null, "next"),
        td(`+${pct(r.annualized - lowest[r.symbol], 2)}`, "num", "spread"));
      return row;
    }), "no perpetual's funding could be read");
    fillBody("funding-spreads", board.spreads.map((s) => {
      const row = el("tr");
      row.append(td(s.symbol), td(`${s.high_venue} ${pct(s.high_annualized, 2)}`), td(`${s.low_venue} ${pct(s.low_annualized, 2)}`),
        td(pct(s.annualized, 2), "num", "spread"));
      return row;
    }), "a spread needs a perpetual on two venues");
    const venues = new Set(board.rates.map((r) => r.venue));
    $("funding-summary").textContent = `${board.rates.length} rates on ${venues.size} venues` +
      (board.unavailable.length ? `, ${board.unavailable.length} unavailable` : "");
  }

  // ---- start ------------------------------------------------------------------------------------------

  function start() {
    $("symbol").addEventListener("change", (e) => {
      state.symbol = e.target.value;
      onSymbol();
    });
    window.addEventListener("resize", () => {
      for (const [id, chart] of [["latency-chart", charts.latency], ["depth-chart", charts.depth]]) {
        if (chart) chart.setSize({ width: width(id), height: chart.height });
      }
    });
    if (!token) {
      setStatus("no token", "down");
      showBanner("This page needs the service's token: open the dashboard URL `crossbook serve` printed when it started, which ends in",
        "#token=…");
      lockPanels("needs the token (#token=… in the URL)");
    }
    every(EVERY.health, async () => {
      if (state.socketOpen) return;
      const response = await fetch("/health", { cache: "no-store" });
      onHealth(await response.json());
    });
    every(EVERY.metrics, pollMetrics);
    if (token) checkToken();
  }

  // one authenticated call first: a wrong token is one 401, not one per panel
  async function checkToken() {
    try {
      await pollStats();
    } catch (error) {
      if (error instanceof Refused) return;
    }
    every(EVERY.books, pollBook);
    every(EVERY.stats, pollStats);
    every(EVERY.alerts, pollAlerts);
    every(EVERY.mid, pollMid);
    every(EVERY.funding, pollFunding);
    let leases = null;
    leases = every(EVERY.leases, async () => {
      const body = await api("/leases");
      if (!body.process) clearInterval(leases); // not on the bus: no lease to show, ever
      renderLeases(body);
    });
    connect();
  }

  start();
})();
