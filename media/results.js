// The "Salt Results" page. Everything that comes from a run is inserted with textContent (never
// innerHTML): state IDs, names, comments and diffs are data, not markup. The model and the filters are
// kept with setState, so the page comes back as it was after a window reload.
// @ts-check
(function () {
  // eslint-disable-next-line no-undef
  const vscode = acquireVsCodeApi();
  /** @type {{ model?: any, history?: any[], shown?: number, compareWith?: number, comparison?: any, failedOnly?: boolean, changedOnly?: boolean, search?: string, expanded?: number[] }} */
  let state = vscode.getState() || {};
  const expanded = new Set(state.expanded || []);

  const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
  const failedOnly = /** @type {HTMLInputElement} */ ($('failedOnly'));
  const changedOnly = /** @type {HTMLInputElement} */ ($('changedOnly'));
  const search = /** @type {HTMLInputElement} */ ($('search'));
  const tbody = /** @type {HTMLElement} */ (document.querySelector('#results tbody'));

  const outcomeSymbol = { succeeded: '✓', changed: '●', failed: '✗', pending: '◐' };
  const outcomeWord = { succeeded: 'Succeeded', changed: 'Changed', failed: 'Failed', pending: 'Pending' };

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function save() {
    state = { ...state, failedOnly: failedOnly.checked, changedOnly: changedOnly.checked, search: search.value, expanded: [...expanded] };
    vscode.setState(state);
  }

  function renderHeader(model) {
    $('title').textContent = model.title || 'Salt Results';
    $('subtitle').textContent = model.subtitle || '';
    const summary = $('summary');
    summary.replaceChildren();
    const s = model.summary;
    const parts = [
      ['succeeded', s.succeeded, 'succeeded'],
      ['changed', s.changed, 'changed'],
      ['failed', s.failed, 'failed'],
      ['pending', s.pending, 'pending'],
    ];
    for (const [cls, count, word] of parts) {
      const chip = el('span', `chip ${cls}${count ? '' : ' zero'}`);
      chip.append(el('strong', '', count), document.createTextNode(` ${word}`));
      summary.append(chip);
    }
    summary.append(el('span', 'chip total', `${s.total} states in ${model.totalTime}`));
    if (model.image) {
      summary.append(el('span', `chip ${model.image.failed ? 'failed' : 'succeeded'}`, `${model.image.failed ? 'Failed run committed as' : 'Image'} ${model.image.tag}`));
    }
    const errors = $('errors');
    errors.replaceChildren();
    errors.hidden = !model.errors.length;
    for (const error of model.errors) {
      const box = el('div', 'error');
      box.append(el('div', 'error-message', error.message));
      if (error.hint) box.append(el('div', 'error-hint', error.hint));
      errors.append(box);
    }
  }

  function matches(row) {
    if (failedOnly.checked && row.outcome !== 'failed') return false;
    if (changedOnly.checked && row.outcome !== 'changed' && row.outcome !== 'pending') return false;
    const query = search.value.trim().toLowerCase();
    if (!query) return true;
    return [row.id, row.function, row.name, row.comment, row.sls].some((field) => String(field || '').toLowerCase().includes(query));
  }

  function renderChanges(row) {
    const cell = el('td');
    cell.colSpan = 6;
    for (const change of row.changes) {
      const block = el('div', 'change');
      block.append(el('div', 'change-key', change.key));
      const pre = el('pre', change.diff !== undefined ? 'diff' : 'text');
      if (change.diff !== undefined) {
        for (const line of String(change.diff).split('\n')) {
          const kind = line.startsWith('+++') || line.startsWith('---') ? 'file' : line.startsWith('@@') ? 'hunk' : line.startsWith('+') ? 'add' : line.startsWith('-') ? 'del' : 'ctx';
          pre.append(el('span', `line ${kind}`, line), document.createTextNode('\n'));
        }
      } else {
        pre.textContent = change.text;
      }
      block.append(pre);
      cell.append(block);
    }
    const tr = el('tr', 'details');
    tr.append(cell);
    return tr;
  }

  function renderRows(model) {
    tbody.replaceChildren();
    let shown = 0;
    for (const row of model.rows) {
      if (!matches(row)) continue;
      shown++;
      const tr = el('tr', `row ${row.outcome}${row.location ? ' openable' : ''}`);
      tr.tabIndex = 0;
      tr.dataset.index = String(row.index);
      tr.title = row.location ? `Open ${row.location.file}:${row.location.line + 1}` : 'Salt did not say which file defines this state';
      const result = el('td', 'result');
      if (row.changes.length) {
        const toggle = el('button', 'toggle', expanded.has(row.index) ? '▾' : '▸');
        toggle.setAttribute('aria-label', expanded.has(row.index) ? 'Hide changes' : 'Show changes');
        toggle.setAttribute('aria-expanded', String(expanded.has(row.index)));
        toggle.addEventListener('click', (event) => {
          event.stopPropagation();
          if (expanded.has(row.index)) expanded.delete(row.index);
          else expanded.add(row.index);
          save();
          renderRows(model);
        });
        result.append(toggle);
      } else {
        result.append(el('span', 'toggle-space'));
      }
      const badge = el('span', `badge ${row.outcome}`, `${outcomeSymbol[row.outcome]} ${outcomeWord[row.outcome]}`);
      result.append(badge);
      tr.append(result, el('td', 'id', row.id), el('td', 'function', row.function), el('td', 'name', row.name), el('td', 'duration', row.duration), el('td', 'comment', row.comment));
      const open = () => vscode.postMessage({ type: 'open', index: row.index });
      tr.addEventListener('click', open);
      tr.addEventListener('keydown', (event) => {
        if (event.key === 'Enter') open();
      });
      tbody.append(tr);
      if (row.changes.length && expanded.has(row.index)) tbody.append(renderChanges(row));
    }
    $('empty').hidden = shown > 0;
    $('count').textContent = `${shown} of ${model.rows.length}`;
    vscode.postMessage({ type: 'rendered', title: model.title, shown, total: model.rows.length });
  }

  const runs = /** @type {HTMLSelectElement} */ ($('runs'));
  const compareWith = /** @type {HTMLSelectElement} */ ($('compareWith'));

  /** The kept runs (newest first) and, for "Compare with", the other runs of the same module. */
  function renderHistory() {
    const history = state.history || [];
    const shown = state.shown || 0;
    $('history').hidden = history.length < 2;
    runs.replaceChildren();
    for (const run of history) {
      const option = el('option', '', `${run.index === 0 ? 'Latest: ' : ''}${run.title} · ${run.subtitle}`);
      option.value = String(run.index);
      option.selected = run.index === shown;
      runs.append(option);
    }
    compareWith.replaceChildren();
    const none = el('option', '', '(nothing)');
    none.value = '';
    compareWith.append(none);
    const current = history[shown];
    for (const run of history) {
      if (!current || run.index === shown || run.key !== current.key) continue;
      const option = el('option', '', `${run.title} · ${run.subtitle}`);
      option.value = String(run.index);
      option.selected = state.compareWith === run.index;
      compareWith.append(option);
    }
    compareWith.disabled = compareWith.options.length < 2;
  }

  function renderComparison() {
    const section = $('comparison');
    const comparison = state.comparison;
    section.hidden = !comparison;
    if (!comparison) return;
    $('comparisonTitle').textContent = `${comparison.title}: ${comparison.before} → ${comparison.after}`;
    const body = /** @type {HTMLElement} */ (document.querySelector('#comparisonTable tbody'));
    body.replaceChildren();
    for (const row of comparison.rows) {
      const tr = el('tr', 'row');
      const badge = (outcome) => (outcome ? el('span', `badge ${outcome}`, `${outcomeSymbol[outcome]} ${outcomeWord[outcome]}`) : el('span', 'absent', '—'));
      const before = el('td', 'result');
      before.append(badge(row.before));
      const after = el('td', 'result');
      after.append(badge(row.after));
      tr.append(el('td', 'id', row.id), el('td', 'function', row.function), before, after, el('td', 'what', row.what));
      body.append(tr);
    }
    $('comparisonSame').textContent = `${comparison.rows.length ? '' : 'No differences. '}${comparison.same} state${comparison.same === 1 ? '' : 's'} alike in both runs.`;
  }

  runs.addEventListener('change', () => vscode.postMessage({ type: 'select', run: Number(runs.value) }));
  compareWith.addEventListener('change', () => {
    state = { ...state, compareWith: compareWith.value === '' ? undefined : Number(compareWith.value), comparison: undefined };
    save();
    renderComparison();
    if (compareWith.value !== '') vscode.postMessage({ type: 'compare', run: state.shown || 0, with: Number(compareWith.value) });
  });

  function render() {
    if (!state.model) return;
    renderHeader(state.model);
    renderHistory();
    renderComparison();
    renderRows(state.model);
  }

  failedOnly.checked = !!state.failedOnly;
  changedOnly.checked = !!state.changedOnly;
  search.value = state.search || '';
  for (const input of [failedOnly, changedOnly]) {
    input.addEventListener('change', () => {
      save();
      render();
    });
  }
  search.addEventListener('input', () => {
    save();
    render();
  });

  window.addEventListener('message', (event) => {
    const message = event.data;
    if (message && message.type === 'model') {
      if (!state.model || JSON.stringify(state.model) !== JSON.stringify(message.model)) expanded.clear();
      state = { ...state, model: message.model, history: message.history, shown: message.shown, compareWith: undefined, comparison: undefined };
      save();
      render();
    } else if (message && message.type === 'comparison') {
      state = { ...state, comparison: message.comparison, compareWith: message.with };
      save();
      renderHistory();
      renderComparison();
    }
  });

  render();
  vscode.postMessage({ type: 'ready' });
})();
