// openMosix dashboard: draws what omd's /api answers and keeps it current (server-sent events, or polling when the
// stream cannot be had). With root's token (from the URL `om dashboard` prints) a process dragged onto a node moves.
'use strict';
(() => {
  const TOKEN_KEY = 'openmosix.dashboard.token';
  const SVG = 'http://www.w3.org/2000/svg';
  const POLL_MS = 1000;
  const $ = (selector) => document.querySelector(selector);

  // The token travels in the URL's fragment (never sent to a server, so never in a log) and is kept for this tab only.
  function takeToken() {
    const found = /(?:^#|&)token=([A-Za-z0-9_-]+)/.exec(location.hash);
    if (found) {
      sessionStorage.setItem(TOKEN_KEY, found[1]);
      history.replaceState(null, '', location.pathname + location.search);
    }
    return sessionStorage.getItem(TOKEN_KEY);
  }

  const token = takeToken();
  const histories = new Map();
  let canMove = false;
  let historyVersion = -1;
  let self = 0;
  let lastNodes = [];
  let polling = false;

  const authorized = (extra) => (token ? { ...extra, Authorization: `Bearer ${token}` } : { ...extra });

  async function getJson(path) {
    const response = await fetch(path, { headers: authorized({}), cache: 'no-store' });
    if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
    return response.json();
  }

  function bytes(n) {
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    for (; n >= 1024 && i < units.length - 1; i++) n /= 1024;
    return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
  }

  function element(tag, attributes = {}, text = undefined) {
    const made = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) made.setAttribute(name, value);
    if (text !== undefined) made.textContent = text;
    return made;
  }

  // ---- nodes ----

  function makeCard(id) {
    const card = element('div', { class: 'node', 'data-node-id': String(id) });
    const title = element('h3');
    title.append(element('span', { class: 'name' }, `node ${id}`), element('span', { class: 'state' }));
    const figures = element('dl');
    for (const [name, label] of [['load', 'load'], ['speed', 'speed'], ['cpus', 'CPUs'], ['memory', 'memory']])
      figures.append(element('dt', {}, label), element('dd', { class: name }, '-'));
    card.append(title, figures);
    for (const [chart, label] of [['load', 'load, 10 min'], ['memory', 'memory used, 10 min']]) {
      card.append(element('div', { class: 'chart-label' }, label));
      const svg = document.createElementNS(SVG, 'svg');
      svg.setAttribute('class', 'chart');
      svg.setAttribute('data-chart', chart);
      svg.setAttribute('data-points', '0');
      svg.setAttribute('viewBox', '0 0 300 48');
      svg.setAttribute('preserveAspectRatio', 'none');
      svg.append(document.createElementNS(SVG, 'polyline'));
      card.append(svg);
    }
    card.addEventListener('dragover', (event) => {
      if (!canMove || !event.dataTransfer.types.includes('text/plain')) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = 'move';
      card.classList.add('target');
    });
    card.addEventListener('dragleave', () => card.classList.remove('target'));
    card.addEventListener('drop', (event) => {
      event.preventDefault();
      card.classList.remove('target');
      const pid = Number(event.dataTransfer.getData('text/plain'));
      if (canMove && pid > 0) move(pid, id);
    });
    return card;
  }

  function fillCard(card, node) {
    const known = node.ageMs >= 0;
    card.dataset.state = node.state;
    card.classList.toggle('self', node.isSelf);
    card.querySelector('.state').textContent = node.state;
    card.querySelector('.load').textContent = known ? node.load.toFixed(2) : '-';
    card.querySelector('.speed').textContent = known ? String(node.speed) : '-';
    card.querySelector('.cpus').textContent = known ? String(node.cpus) : '-';
    card.querySelector('.memory').textContent = known
      ? `${bytes(node.totalMemory - node.freeMemory)} / ${bytes(node.totalMemory)}` : '-';
    drawCharts(card, node);
  }

  function renderNodes(view) {
    const container = $('#nodes');
    self = view.self;
    lastNodes = view.nodes;
    $('#cluster-name').textContent = `node ${view.self} (${view.address})${view.mode === 'off' ? ', not in a cluster' : ''}`;
    const wanted = new Set(view.nodes.map((n) => String(n.id)));
    for (const card of [...container.children]) if (!wanted.has(card.dataset.nodeId)) card.remove();
    for (const node of view.nodes) {
      let card = container.querySelector(`[data-node-id="${node.id}"]`);
      if (!card) {
        card = makeCard(node.id);
        const after = [...container.children].find((c) => Number(c.dataset.nodeId) > node.id);
        container.insertBefore(card, after ?? null);
      }
      fillCard(card, node);
    }
  }

  // ---- charts ----

  function drawChart(svg, times, values, top) {
    const line = svg.querySelector('polyline');
    svg.setAttribute('data-points', String(values.length));
    if (values.length === 0) {
      line.setAttribute('points', '');
      return;
    }
    const first = times[0];
    const span = Math.max(1, times[times.length - 1] - first);
    const points = values.map((v, i) => {
      const x = values.length === 1 ? 300 : ((times[i] - first) / span) * 300;
      const y = 46 - (Math.min(v, top) / top) * 44;
      return `${x.toFixed(1)},${y.toFixed(1)}`;
    });
    line.setAttribute('points', points.join(' '));
  }

  function drawCharts(card, node) {
    const history = histories.get(node.id) ?? { atMs: [], load: [], usedMemory: [] };
    drawChart(card.querySelector('[data-chart="load"]'), history.atMs, history.load, Math.max(1, ...history.load));
    drawChart(card.querySelector('[data-chart="memory"]'), history.atMs, history.usedMemory,
      Math.max(1, node.totalMemory, ...history.usedMemory));
  }

  async function refreshHistory(version) {
    if (version === historyVersion) return;
    historyVersion = version;
    const view = await getJson('/api/history');
    histories.clear();
    for (const node of view.nodes) histories.set(node.id, node);
    for (const node of lastNodes) {
      const card = $(`#nodes [data-node-id="${node.id}"]`);
      if (card) drawCharts(card, node);
    }
  }

  // ---- processes ----

  function makeProcessRow(pid) {
    const row = element('tr', { 'data-pid': String(pid) });
    for (let i = 0; i < 8; i++) row.append(element('td'));
    row.addEventListener('dragstart', (event) => {
      event.dataTransfer.setData('text/plain', String(pid));
      event.dataTransfer.effectAllowed = 'move';
    });
    return row;
  }

  // Rows are kept and changed in place, never rebuilt: a row being dragged must stay the element the drag began on.
  function renderProcesses(list) {
    const body = $('#procs');
    const wanted = new Set(list.processes.map((p) => String(p.pid)));
    for (const row of [...body.children]) if (!wanted.has(row.dataset.pid)) row.remove();
    let previous = null;
    for (const p of list.processes) {
      let row = body.querySelector(`tr[data-pid="${p.pid}"]`) ?? makeProcessRow(p.pid);
      const runsOn = p.state === 'guest' ? `node ${list.self} (guest of node ${p.home})` : `node ${p.where}`;
      const texts = [p.pid, p.command, `node ${p.home}`, runsOn, p.state, p.cpuPercent.toFixed(1), bytes(p.memoryBytes), p.migrations];
      texts.forEach((text, i) => {
        if (row.cells[i].textContent !== String(text)) row.cells[i].textContent = String(text);
      });
      row.dataset.state = p.state;
      // Only this node's own processes move from here; a guest is moved from its home node.
      if (canMove && p.state !== 'guest') row.draggable = true;
      else row.removeAttribute('draggable');
      const expected = previous ? previous.nextElementSibling : body.firstElementChild;
      if (expected !== row) body.insertBefore(row, expected);
      previous = row;
    }
  }

  function renderMigrations(migrations) {
    const rows = migrations.map((m) => {
      const row = element('tr', { 'data-pid': String(m.pid), 'data-result': m.result });
      const when = new Date(m.atMs).toLocaleTimeString();
      for (const text of [when, m.pid, m.command, `node ${m.from}`, `node ${m.to}`]) row.append(element('td', {}, String(text)));
      row.append(element('td', { class: m.result }, m.error ? `${m.result}: ${m.error}` : m.result));
      row.append(element('td', {}, m.result === 'moved' ? String(m.frozenMs) : '-'));
      return row;
    });
    $('#migrations').replaceChildren(...rows);
  }

  // ---- moving ----

  function report(result, text) {
    const line = $('#move-result');
    line.dataset.result = result;
    line.textContent = text;
  }

  async function move(pid, node) {
    report('moving', `moving process ${pid} to node ${node}…`);
    try {
      const response = await fetch(`/api/procs/${pid}/migrate`, {
        method: 'POST',
        headers: authorized({ 'Content-Type': 'application/json' }),
        body: JSON.stringify({ node }),
      });
      const answer = await response.json();
      if (response.ok) report('moved', `process ${pid} moved from node ${answer.from} to node ${answer.to} (frozen ${answer.frozenMs} ms)`);
      else report('failed', `process ${pid} did not move: ${answer.error ?? `HTTP ${response.status}`}`);
    } catch (error) {
      report('failed', `process ${pid} did not move: ${error.message}`);
    }
  }

  // ---- updates ----

  function apply(snapshot) {
    renderNodes(snapshot.cluster);
    renderProcesses(snapshot.processes);
    renderMigrations(snapshot.migrations);
    refreshHistory(snapshot.historyVersion).catch(() => { historyVersion = -1; });
  }

  function live(state, text) {
    const badge = $('#live');
    badge.dataset.live = state;
    badge.textContent = text;
  }

  function poll() {
    polling = true;
    getJson('/api/snapshot')
      .then((snapshot) => { apply(snapshot); live('polling', 'updating every second'); })
      .catch(() => live('down', 'omd does not answer'))
      .finally(() => setTimeout(poll, POLL_MS));
  }

  function listen() {
    if (typeof EventSource !== 'function') return poll();
    const events = new EventSource('/api/events');
    events.addEventListener('snapshot', (event) => { apply(JSON.parse(event.data)); live('live', 'live'); });
    events.addEventListener('error', () => {
      // A stream the browser gave up on (not one it is reconnecting) is replaced by polling.
      if (events.readyState === EventSource.CLOSED) {
        if (!polling) poll();
      }
      else live('down', 'reconnecting…');
    });
  }

  async function start() {
    if (token) {
      try {
        canMove = (await getJson('/api/session')).canMove;
      } catch {
        canMove = false;
      }
    }
    document.body.dataset.mode = canMove ? 'root' : 'read-only';
    $('#session').textContent = canMove ? 'root: drag a process onto a node to move it'
      : token ? 'read-only (the token is not valid: omd restarted? run `om dashboard` again)' : 'read-only';
    $('#drag-hint').hidden = !canMove;
    listen();
  }

  start();
})();
