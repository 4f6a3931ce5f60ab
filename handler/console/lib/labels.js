// The words of the codes the API uses.
export const STATUS = {
  submitted: '待筛查', rejected: '已驳回', pending: '待派遣', dispatched: '已派遣',
  in_progress: '处置中', deferred: '已挂账', resolved: '已处置', closed: '已结案', merged: '已合并',
};
// The statuses of a ticket still being handled (在办), drawn on the map.
export const OPEN = ['submitted', 'pending', 'dispatched', 'in_progress', 'deferred'];
export const EVENTS = {
  reported: '居民上报', screened: '通过内容审核', held: '待人工审核', registered: '立案',
  rejected: '驳回', merged: '合并到已有工单', joined: '又有居民反映', queued: '进入人工派遣队列',
  dispatched: '派遣', accepted: '接单', claimed: '党员认领', returned: '退回',
  reassigned: '超时改派', escalated: '超期上报', resolved: '处置完成', reopened: '返工', closed: '结案',
  extension_requested: '申请延期', extension_approved: '批准延期', extension_denied: '不批准延期',
  extended: '延期', deferred: '挂账', resumed: '恢复办理', urged: '督办', verified: '核查通过',
  verify_failed: '核查不通过', self_handled: '自行处置', hotline: '热线受理',
};
export const ROLES = { grid_worker: '网格员', party_member: '在职党员', staff: '工作人员', resident: '居民', system: '系统' };
export const SOURCES = { wechat: '小程序', patrol: '巡查', hotline: '12345 热线', open311: 'Open311' };
export const KINDS = { volunteer: '志愿服务', theme: '主题实践', joint_enforcement: '联合执法' };
