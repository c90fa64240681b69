// The ranked table: header, one page of rows, pager, summary and the PDF comparison picks, all
// drawn from the column spec (columns.js).
import { sortRows } from "./columns.js";

const PAGE_SIZE = 25;

export function createTable(ctx, columns) {
  const { cfg, G, state } = ctx, L = cfg.labels;
  const table = document.getElementById("ranked-table");
  const tbody = table.querySelector("tbody");
  const byOrder = new Map(columns.filter((c) => c.order).map((c) => [c.order, c]));

  function drawHeader() {
    const tr = document.createElement("tr");
    for (const column of columns) {
      const th = document.createElement("th");
      if (column.headClass) th.className = column.headClass;
      if (column.title) th.title = column.title;
      if (column.hiddenLabel) {
        const span = document.createElement("span");
        span.className = "visually-hidden";
        span.textContent = column.label;
        th.appendChild(span);
      } else if (column.order) {
        const b = document.createElement("button");
        b.type = "button";
        b.className = "sort";
        b.dataset.order = column.order;
        b.textContent = column.label;
        th.appendChild(b);
      } else {
        th.textContent = column.label;
      }
      tr.appendChild(th);
    }
    table.querySelector("thead").replaceChildren(tr);
  }

  function sorted(rows) {
    return sortRows(rows, byOrder.get(state.order) || byOrder.get("rank"), state.cols.site_id);
  }

  function row(i) {
    const tr = document.createElement("tr");
    tr.dataset.siteId = state.cols.site_id[i];
    tr.dataset.index = i;
    if (state.focus === i) tr.className = "focused";
    for (const column of columns) {
      const td = document.createElement("td");
      if (column.render) column.render(td, i);
      else td.textContent = column.format(column.value(i), i);
      if (column.cellClass) td.className = column.cellClass;
      tr.appendChild(td);
    }
    return tr;
  }

  function draw(rows) {
    const c = state.cols;
    const pages = Math.max(1, Math.ceil(rows.length / PAGE_SIZE));
    state.page = Math.min(Math.max(1, state.page), pages);
    const page = rows.slice((state.page - 1) * PAGE_SIZE, state.page * PAGE_SIZE);
    const frag = document.createDocumentFragment();
    for (const i of page) frag.appendChild(row(i));
    tbody.replaceChildren(frag);
    if (!page.length) {
      const tr = document.createElement("tr");
      const td = document.createElement("td");
      td.colSpan = columns.length;
      td.textContent = L.noRows;
      tr.appendChild(td);
      tbody.appendChild(tr);
    }
    document.getElementById("page-info").textContent = G.interpolate(L.pageOf, { page: state.page, pages: pages });
    document.getElementById("page-prev").disabled = state.page <= 1;
    document.getElementById("page-next").disabled = state.page >= pages;
    document.getElementById("table-summary").textContent = G.interpolate(L.shown, {
      shown: G.fmt(rows.length, 0), total: G.fmt(c.site_id.filter((_, i) => c.feasible[i]).length, 0),
    });
    table.querySelectorAll("button.sort").forEach((b) => {
      const on = b.dataset.order === state.order;
      b.classList.toggle("current", on);
      b.closest("th").setAttribute("aria-sort", on ? (b.dataset.order.startsWith("-") ? "descending" : "ascending") : "none");
    });
    table.dataset.order = state.order;
  }

  function updateCompare() {
    if (!cfg.compareUrl) return;
    const holder = document.getElementById("compare-inputs");
    holder.replaceChildren(...[...state.selected].map((id) => {
      const input = document.createElement("input");
      input.type = "hidden";
      input.name = "site";
      input.value = id;
      return input;
    }));
    document.getElementById("compare-size").value = state.size;
    document.getElementById("compare-button").disabled = state.selected.size < 2 || state.selected.size > cfg.compareMax;
    document.getElementById("compare-count").textContent = G.interpolate(L.selected, { n: state.selected.size });
  }

  return { drawHeader, sorted, draw, updateCompare };
}
