// Package ticket owns a ticket's life (docs/state-machine.md,
// docs/architecture.md): the one intake every channel goes through —
// residents' reports, grid workers' patrol cases, 12345 hotline calls
// (Reports, Tasks.TakeCall; Open311 requests come through package open311)
// — screening (立案), routing and dispatch (派遣), the assignees' tasks
// (处置), the residents' feedback, the staff's steps (延期, 挂账, 督办, 核查,
// manual dispatch, reject) and the staff's view of every ticket with its
// export.
//
// Every change is a step of model.Ticket committed by the one Workflow,
// which the services here share: load, step, commit with the version as
// precondition (the store writes the statistics and a handoff in the same
// atomic write), retry on conflict, then hand the after-commit work to
// Redis (Relay). Takeover and Reconciler finish what a dead instance or a
// Redis that lost its data left (docs/consistency.md).
package ticket
