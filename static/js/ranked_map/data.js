// The map data of one run at one cluster size, as the page reads it (siting/dashboard/selectors.py
// map_data_json sends it), and what is derived from it once per size or weighting.

// The map data codes its columns of few distinct values (countries, former uses, exclusion
// reasons, flags...): such a column holds indices into codes[column], its list of values.
// Decoded here, once per size, so the rest of the page reads plain values.
export function decodeColumns(data) {
  for (const [name, values] of Object.entries(data.codes || {})) {
    data.columns[name] = data.columns[name].map((k) => (k === null ? null : values[k]));
  }
  return data;
}

// Return size → promise of its decoded data: each size is fetched and decoded once per page
// (the server also answers a repeat with 304); a failed fetch is retried the next time.
export function sizeLoader(fetchJSON, url) {
  const sizes = new Map();
  return function fetchSize(size) {
    if (!sizes.has(size)) {
      const p = fetchJSON(url + "?size=" + size).then(decodeColumns);
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
