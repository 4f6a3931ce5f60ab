-- The staff list by grid and status (the dispatch desk's "this grid's open
-- tickets, soonest deadline first"): driven by the grid's index alone, a
-- page read the grid's tickets in deadline order and looked each one's
-- status up in the table until it had 20 open ones (most of a grid's
-- tickets are closed, with deadlines long past), and the total looked up
-- every ticket of the grid — ~80 ms of CPU a call at 500,000 tickets. With
-- (grid_code, status, due_key) each status is one range in deadline order
-- and the total counts on the index alone (docs/BENCHMARKS.md).
CREATE INDEX tickets_grid_status_due ON tickets(grid_code, status, due_key);
