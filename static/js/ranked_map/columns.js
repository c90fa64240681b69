// The result table's columns, one declarative list: each column's key, header label (from the
// labels in the page's config), cell formatter and sort. The table's header, cells and sorting
// are all drawn from it (table.js); a new column is one entry here.
//
// A column: key; label (header text; hiddenLabel keeps it for screen readers only); title
// (header tooltip); headClass and cellClass; value(i), the site's value in row i; format(v, i),
// its cell text, or render(td, i) for a cell with controls; order, the sort name the server's
// exports also take (siting/dashboard/selectors.py ORDERINGS) with sortValue(i), the key that
// sorts it (value by default; ascending, missing last, ties by site id); show, false to leave
// the column out.

// A rank as shown everywhere: "3", "=3" when another site has the same score, "–" when none.
export function rankText(ctx, i) {
  const r = ctx.state.rank[i];
  if (r === null || r === undefined) return "–";
  return (ctx.state.shared[i] ? "=" : "") + ctx.G.fmt(r, 0);
}

// The labels of a site's exclusion reasons ("code;code" in the map data).
export function reasonText(cfg, codes) {
  return (codes || "").split(";").filter(Boolean).map((k) => cfg.exclusions[k] || k).join(", ");
}

// The site page of a site in this run at the size shown.
export function siteUrl(ctx, siteId) {
  return ctx.cfg.urls.site.replace("/0/", "/" + siteId + "/") + "?run=" + ctx.cfg.run + "&size=" + ctx.state.size;
}

export function tableColumns(ctx) {
  const { cfg, G, state } = ctx, L = cfg.labels;
  const column = (name) => (i) => state.cols[name][i];
  const fixed = (digits) => (v) => G.fmt(v, digits);
  const plain = (v) => (v === null || v === undefined ? "" : String(v));
  const number = (key, name, digits, label, extra) => ({
    key, label, headClass: "num", cellClass: "num", value: column(name), format: fixed(digits), ...extra,
  });
  return [
    {
      key: "select", label: L.selectColumn, hiddenLabel: true, show: Boolean(cfg.compareUrl),
      value: column("site_id"), render: (td, i) => td.appendChild(compareBox(ctx, i)),
    },
    {
      key: "rank", label: L.rank, cellClass: "num", order: "rank", value: (i) => state.rank[i],
      format: (_v, i) => rankText(ctx, i), render: (td, i) => td.appendChild(focusButton(ctx, i)),
    },
    { key: "name", label: L.site, order: "name", value: column("site_name"), render: (td, i) => siteCell(ctx, td, i) },
    { key: "country", label: L.country, value: column("country"), format: plain },
    { key: "former_use", label: L.formerUse, value: column("former_use"), format: (v) => plain(cfg.formerUses[v] || v) },
    // Best score first is best rank first: ranks come from the full-precision scores, which the
    // map data rounds to 0.001 (ties there would put sites in another order than the exports).
    number("score", "score", 1, L.score, { order: "-score", value: (i) => state.score[i], sortValue: (i) => state.rank[i] }),
    number("site_cost", "site_cost_eur_per_gpu_hour", 2, L.siteCostColumn, { title: L.siteCostHelp, order: "site_cost" }),
    number("tco", "tco_eur_per_gpu_hour", 2, L.tcoColumn, { title: L.tcoHelp, order: "tco" }),
    number("time_to_power", "time_to_power_months", 0, L.ttpColumn, { order: "time_to_power" }),
    number("emissions", "emissions_t_per_yr", 0, L.emissionsColumn, { order: "emissions" }),
    number("largest", "largest_size_h100e", 0, L.largest),
    { key: "reasons", label: L.reasons, value: column("exclusion_reasons"), format: (v) => reasonText(cfg, v) },
  ].filter((c) => c.show !== false);
}

// Return `rows` (site indices) in the order of `column`: its sort key ascending, missing values
// last, ties by site id. Each row's key is read once, not twice per comparison (10,000 rows:
// ~140,000 comparisons).
export function sortRows(rows, column, siteIds) {
  const key = column.sortValue || column.value;
  const keys = new Map(rows.map((i) => [i, key(i)]));
  return rows.slice().sort((a, b) => {
    const ka = keys.get(a), kb = keys.get(b);
    const na = ka === null || ka === undefined, nb = kb === null || kb === undefined;
    if (na !== nb) return na ? 1 : -1;
    if (!na && ka !== kb) return ka < kb ? -1 : 1;
    return siteIds[a] - siteIds[b];
  });
}

// --- cells with controls --------------------------------------------------------------------

function compareBox(ctx, i) {
  const { cfg, state } = ctx, L = cfg.labels, id = state.cols.site_id[i];
  const box = document.createElement("input");
  box.type = "checkbox";
  box.className = "compare-box";
  box.value = id;
  box.title = L.select;
  box.setAttribute("aria-label", L.select + ": " + state.cols.site_name[i]);
  box.checked = state.selected.has(id);
  box.disabled = !box.checked && state.selected.size >= cfg.compareMax;
  return box;
}

function focusButton(ctx, i) {
  const L = ctx.cfg.labels;
  const b = document.createElement("button");
  b.type = "button";
  b.className = "focus-btn";
  b.textContent = rankText(ctx, i);
  b.title = ctx.state.shared[i] ? L.focus + " (" + L.shared + ")" : L.focus;
  b.setAttribute("aria-label", L.focus + ": " + ctx.state.cols.site_name[i]);
  return b;
}

function siteCell(ctx, td, i) {
  const c = ctx.state.cols;
  const a = document.createElement("a");
  a.href = siteUrl(ctx, c.site_id[i]);
  a.textContent = c.site_name[i];
  a.className = "site-link";
  td.appendChild(a);
  if (c.may_be_unavailable[i]) {
    const flag = document.createElement("span");
    flag.className = "flag";
    flag.textContent = " · " + ctx.cfg.labels.mayBeUnavailable;
    td.appendChild(flag);
  }
}
