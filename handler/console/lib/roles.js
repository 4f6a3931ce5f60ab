// Who is signed in and what their roles let them do. The server decides
// every call (handler/routes.go names each route's roles); the console
// only offers what the clerk may use, so that nobody meets a 403:
//
//   read     — 概览, 地图, 工单 (read only), 活动, 统计: dispatcher, admin, leader
//   handle   — a ticket's steps, 热线受理, batch steps: dispatcher
//   identify — 查看完整信息 (reveal) and 打码 (redaction): dispatcher, admin
//   admin    — 人员, 工作人员, 网格, 分类, 死信, publishing activities: admin
//   audit    — 访问记录: auditor
//
// Each capability is a class on <body> (can-read …); app.css hides every
// element marked data-can="<capability>" whose class the body lacks, so
// a tab's own code may show and hide its parts as before.

const CAPS = {
  read: ['dispatcher', 'admin', 'leader'],
  handle: ['dispatcher'],
  identify: ['dispatcher', 'admin'],
  admin: ['admin'],
  audit: ['auditor'],
};

// The staff roles an admin gives, in the console's order (model.StaffRoles).
export const STAFF_ROLES = ['admin', 'dispatcher', 'leader', 'auditor'];

let held = new Set();
let self = '';

// setRoles takes the signed-in user's roles and id (the login's user, or
// GET /me) and marks the page.
export function setRoles(roles, id) {
  held = new Set(roles || []);
  self = id || '';
  for (const cap of Object.keys(CAPS)) document.body.classList.toggle('can-' + cap, can(cap));
}

// can tells whether the signed-in user has a capability.
export function can(cap) { return (CAPS[cap] || []).some((r) => held.has(r)); }

// myID is the signed-in user's account id.
export function myID() { return self; }

// roles are the signed-in user's roles.
export function roles() { return [...held]; }
