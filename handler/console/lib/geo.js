// Points and polygons on a flat map of a city.

// projection fits WGS-84 [lng, lat] pairs into a width × height box: an
// equirectangular projection scaled by the cosine of the middle latitude,
// which is true enough at the size of a city. Its invert turns a point of
// the box back into [lng, lat] (a click on the map).
export function projection(points, width, height, pad) {
  let minX = Infinity; let maxX = -Infinity; let minY = Infinity; let maxY = -Infinity;
  for (const [lng, lat] of points) {
    minX = Math.min(minX, lng); maxX = Math.max(maxX, lng);
    minY = Math.min(minY, lat); maxY = Math.max(maxY, lat);
  }
  if (!isFinite(minX)) { minX = 118.7; maxX = 118.9; minY = 32; maxY = 32.1; }
  const k = Math.cos(((minY + maxY) / 2) * Math.PI / 180);
  const spanX = Math.max((maxX - minX) * k, 1e-4);
  const spanY = Math.max(maxY - minY, 1e-4);
  const s = Math.min((width - 2 * pad) / spanX, (height - 2 * pad) / spanY);
  const offX = (width - spanX * s) / 2;
  const offY = (height - spanY * s) / 2;
  const proj = ([lng, lat]) => [offX + (lng - minX) * k * s, offY + (maxY - lat) * s];
  proj.invert = ([x, y]) => [minX + (x - offX) / (k * s), maxY - (y - offY) / s];
  return proj;
}

// geometries are the geometries of GeoJSON: a geometry, a Feature, a
// FeatureCollection or a list of them, flattened.
export function geometries(g) {
  if (!g) return [];
  if (Array.isArray(g)) return g.flatMap(geometries);
  if (g.type === 'FeatureCollection') return geometries(g.features);
  if (g.type === 'Feature') return geometries(g.geometry);
  if (g.type === 'GeometryCollection') return geometries(g.geometries);
  return g.coordinates ? [g] : [];
}

// lines are a geometry's paths as lists of [lng, lat]: a line's points, a
// polygon's rings (closed).
export function lines(geom) {
  const c = geom.coordinates;
  switch (geom.type) {
    case 'LineString': return [c];
    case 'MultiLineString': return c;
    case 'Polygon': return c;
    case 'MultiPolygon': return c.flat();
    default: return [];
  }
}

export function gridRings(g) {
  const geom = g.geometry;
  if (!geom || !Array.isArray(geom.coordinates)) return [];
  const polys = geom.type === 'Polygon' ? [geom.coordinates] : geom.coordinates;
  return polys.flat();
}

function ticketPoint(t) {
  return t.location ? [Number(t.location.lng), Number(t.location.lat)] : null;
}

// wgs84 is a ticket's point in WGS-84, as the grids are drawn; a report sent
// in GCJ-02 is echoed as sent, so it is moved back here (the inverse of the
// public offset formula, good to a metre or two).
export function wgs84(t) {
  const p = ticketPoint(t);
  if (!p || !t.location || t.location.coord_type !== 'gcj02') return p;
  const [lng, lat] = p;
  const a = 6378245.0; const ee = 0.00669342162296594323;
  const x = lng - 105; const y = lat - 35;
  let dLat = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
  dLat += (20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2 / 3;
  dLat += (20 * Math.sin(y * Math.PI) + 40 * Math.sin(y / 3 * Math.PI)) * 2 / 3;
  dLat += (160 * Math.sin(y / 12 * Math.PI) + 320 * Math.sin(y * Math.PI / 30)) * 2 / 3;
  let dLng = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
  dLng += (20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2 / 3;
  dLng += (20 * Math.sin(x * Math.PI) + 40 * Math.sin(x / 3 * Math.PI)) * 2 / 3;
  dLng += (150 * Math.sin(x / 12 * Math.PI) + 300 * Math.sin(x / 30 * Math.PI)) * 2 / 3;
  const rad = lat / 180 * Math.PI;
  let magic = Math.sin(rad);
  magic = 1 - ee * magic * magic;
  const sq = Math.sqrt(magic);
  dLat = (dLat * 180) / ((a * (1 - ee)) / (magic * sq) * Math.PI);
  dLng = (dLng * 180) / (a / sq * Math.cos(rad) * Math.PI);
  return [lng - dLng, lat - dLat];
}
