// Package notify sends WeChat subscribe messages (订阅消息) off the request
// path: a ticket assigned to a worker, a report accepted or resolved, a
// 督办. Each acceptance a resident gave allows one message; each logical
// message is sent at most once however often its job runs.
package notify
