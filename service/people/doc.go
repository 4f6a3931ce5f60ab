// Package people owns who acts: logins and bearer tokens (WeChat users,
// staff), invites and binding, duty, the people directory of grid workers
// (网格员), party branches (党支部) and party members (在职党员), the names
// a resident may see of them (masked), and party members' activities
// (志愿服务, 主题实践, 联合执法) with their check-ins.
package people
