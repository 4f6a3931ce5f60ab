// The words of the codes the API uses — statuses, timeline steps, roles,
// sources, activity kinds, a ticket's marks, address and layer kinds —
// read from the server (GET /api/v1/labels, the model's own labels), so
// the console keeps no table of words of its own and says what the
// exports and the mini-program say.
import { api } from './api.js';

// The tables of GET /labels, by the name the console asks them by.
const NAMES = {
  status: 'statuses', event: 'event_types', source: 'sources', role: 'roles', activity_kind: 'activity_kinds',
  category: 'categories', flag: 'flags', address_kind: 'address_kinds', layer_kind: 'layer_kinds', audit_action: 'audit_actions',
};
let tables = {}; // name → Map(key → {label, stage})

// loadLabels reads the words once a session begins.
export async function loadLabels() {
  const got = await api('GET', '/labels');
  const next = {};
  for (const [name, field] of Object.entries(NAMES)) {
    next[name] = new Map((got[field] || []).map((x) => [x.key, x]));
  }
  tables = next;
}

// label is the word of code in a table, or what to show when the server
// has none (by default the code itself).
export function label(table, code, fallback) {
  const x = tables[table] && tables[table].get(code);
  if (x) return x.label;
  return fallback === undefined ? (code || '') : fallback;
}

// stage is a timeline step's GB/T 30428 stage (立案, 派遣 …).
export function stage(code) {
  const x = tables.event && tables.event.get(code);
  return x ? x.stage || '' : '';
}

// codes are a table's codes, in the order to show them.
export function codes(table) { return tables[table] ? [...tables[table].keys()] : []; }

// The statuses of a ticket still being handled (在办), drawn on the map and
// offered as one choice of the list's filter: the server's own list (the
// overview's 在办 figure) is pending, dispatched, in_progress, deferred;
// the map also draws the reports still being screened.
export const OPEN = ['submitted', 'pending', 'dispatched', 'in_progress', 'deferred'];
