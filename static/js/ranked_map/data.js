// The map data of one run at one cluster size, as the page reads it (siting/dashboard/selectors.py
// map_sites_json and map_data_json send it), and what is derived from it once per size or weighting.

// The map data codes its columns of few distinct values (countries, former uses, exclusion
// reasons, flags...): such a column holds indices into codes[column], its list of values.
// Decoded here, once per size, so the rest of the page reads plain values.
export function decodeColumns(data) {
  for (const [name, values] of Object.entries(data.codes || {})) {
    data.columns[name] = data.columns[name].map((k) => (k === null ? null : values[k]));
  }
  return data;
}

// The site columns of a run (map-sites: what does not change with the size, in site id order),
// decoded once per page, with each site id's row.
export function siteTable(data) {
  decodeColumns(data);
  data.row = new Map(data.columns.site_id.map((id, k) => [id, k]));
  return data;
}

// One size's columns (map-data, part "size", in rank order) joined with the run's site
// columns through site_id: the page then reads one table per size. A site the site table
// lacks (withdrawn between the two requests) has no values there, and its id for a name.
export function joinSites(sites, data) {
  const rows = data.columns.site_id.map((id) => sites.row.get(id));
  for (const [name, values] of Object.entries(sites.columns)) {
    if (name !== "site_id") data.columns[name] = rows.map((k) => (k === undefined ? null : values[k]));
  }
  data.columns.site_name = data.columns.site_name.map((v, i) => (v === null ? "#" + data.columns.site_id[i] : v));
  return data;
}

// Return size → promise of its decoded data, joined with the site columns: the site columns are
// fetched once per page, each size's own columns once per size (the server also answers a repeat
// with 304); a failed fetch is retried the next time.
export function sizeLoader(fetchJSON, sizeUrl, sitesUrl) {
  let sites = null;
  const sizes = new Map();
  function fetchSites() {
    if (!sites) {
      sites = fetchJSON(sitesUrl).then(siteTable);
      sites.catch(() => { sites = null; });
    }
    return sites;
  }
  return function fetchSize(size) {
    if (!sizes.has(size)) {
      const own = fetchJSON(sizeUrl + "?part=size&size=" + size).then(decodeColumns);
      const p = Promise.all([fetchSites(), own]).then(([s, d]) => joinSites(s, d));
      p.catch(() => sizes.delete(size));
      sizes.set(size, p);
    }
    return sizes.get(size);
  };
}

// Equal scores share a rank (1, 1, 3): which ranks another site also holds (shown "=3").
export function sharedRanks(rank) {
  const counts = new Map();
  for (const r of rank) if (r !== null && r !== undefined) counts.set(r, (counts.get(r) || 0) + 1);
  return rank.map((r) => r !== null && r !== undefined && counts.get(r) > 1);
}

// Web Mercator y of every site [rad], once per size, so the map's grid cells are square on screen.
export function mercatorY(lat) {
  return lat.map((v) => (v === null || v === undefined ? null : Math.log(Math.tan(Math.PI / 4 + (v * Math.PI) / 360))));
}
