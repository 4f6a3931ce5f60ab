package seed

import (
	"math/rand/v2"
	"strconv"
	"strings"
)

// What residents write, per category of the default catalogue: the problem
// in a few words, and what it does to them. A description is put together
// from a time, a place, the problem, its effect and a request, so that the
// texts of a large history are varied enough for search to be measured on
// them (common terms like 井盖 or 路灯 match many, a street and a number
// few).
type wording struct {
	problems []string
	effects  []string
}

var wordings = map[string]wording{
	"0101": {[]string{"垃圾桶满了溢出来，好几天没人清运", "有人倒了一堆生活垃圾", "绿化带里扔了很多塑料袋和饭盒", "垃圾散落一地没人打扫",
		"餐厨垃圾直接倒在路边", "垃圾房门口堆满了垃圾袋"}, []string{"气味很大", "招了很多苍蝇", "路过都要捂着鼻子", "流浪猫狗翻得到处都是"}},
	"0102": {[]string{"人行道上堆了很多建材", "楼道口堆放杂物和旧家具", "店铺把货物堆到了人行道上", "有人在路边堆了大量纸箱",
		"废旧自行车和花盆堆在消防通道里"}, []string{"行人只能走机动车道", "影响通行", "存在消防隐患", "老人推车过不去"}},
	"0103": {[]string{"工地门口积了一大片渣土", "有一堆装修垃圾放了好多天", "渣土车撒落的泥土铺满路面", "拆迁后的建筑垃圾一直没清"},
		[]string{"车一过尘土飞扬", "下雨后满地泥浆", "占了半条路", "影响周边居民开窗"}},
	"0201": {[]string{"电线杆和墙上贴满了小广告", "单元门上被贴了开锁、疏通的小广告", "公交站牌上被喷了电话号码", "人行道地面被喷涂了办证广告",
		"小区围墙上刷了很多野广告"}, []string{"很影响市容", "清了又贴，反反复复", "看着很脏乱", "孩子们天天看到"}},
	"0202": {[]string{"沿街一块广告牌歪了", "店招灯箱破损", "楼顶广告架锈蚀严重", "临时横幅挂了好几个月没撤"},
		[]string{"风大时晃得厉害", "有掉落的危险", "下面就是人行道", "存在安全隐患"}},
	"0301": {[]string{"一楼住户在公共绿地上搭了个棚子", "楼顶有人在加盖彩钢房", "沿街商铺私自外扩搭了雨棚", "有人圈占公共空地建了小屋"},
		[]string{"侵占公共空间", "邻居意见很大", "挡住了通道", "影响楼上采光"}},
	"0302": {[]string{"晚上十一点了工地还在施工", "清早六点就开始切割", "夜间渣土车进出鸣笛", "装修电钻声中午不停"},
		[]string{"噪音很大", "吵得没法休息", "孩子被吵醒好几次", "老人心脏受不了"}},
	"0501": {[]string{"早市摊贩占了半条马路", "有流动摊点卖水果", "夜宵摊摆到了人行道上", "路边烧烤摊油烟很重", "三轮车停在路口卖菜"},
		[]string{"堵住了盲道", "车辆通行困难", "散场后一地垃圾", "油烟熏到楼上住户"}},
	"0502": {[]string{"共享单车堆在地铁口", "电动车停满了盲道", "自行车乱停", "共享单车倒了一片没人扶"},
		[]string{"挡住了出口", "消防通道被堵", "轮椅过不去", "行人只能绕行"}},
	"0503": {[]string{"有车长期停在消防通道上", "人行道上停了好几辆小汽车", "违停的车挡住了视线", "僵尸车停了半年没人挪"},
		[]string{"救护车进不来", "行人被挤到机动车道", "路口很容易出事故", "占用了公共车位"}},
	"1101": {[]string{"人行道上的井盖缺了一块", "雨水井盖松动", "污水井盖下沉", "井盖不见了，只放了个锥桶", "井盖破损露出大洞"},
		[]string{"晚上很危险", "车压过去哐哐响", "有人差点踩空", "电动车容易摔"}},
	"1102": {[]string{"这一段路灯全都不亮", "路灯白天一直亮着", "路灯杆被撞歪了", "路灯忽明忽暗", "好几盏路灯的灯罩掉了"},
		[]string{"晚上漆黑一片", "走路很不安全", "浪费电", "随时可能倒下来"}},
	"1201": {[]string{"路面有个大坑", "人行道地砖翘起好几块", "路面塌陷了一块", "道路裂缝越来越大", "盲道砖破损缺失"},
		[]string{"电动车容易摔", "老人差点绊倒", "下雨积水看不见", "车辆经过颠得厉害"}},
	"1301": {[]string{"绿地被人踩出了一条路", "行道树的树枝折断挂在半空", "花坛里的花被人拔了", "有人在绿化带里种菜", "树木倒伏压在围墙上"},
		[]string{"草都死了", "随时会砸到人", "很可惜", "破坏了公共绿化"}},
}

// kindWeights are how often each category of the default catalogue is
// reported, relative to one another (others weigh 3).
var kindWeights = map[string]int{"0101": 14, "0102": 8, "0103": 5, "0201": 9, "0202": 3, "0301": 4, "0302": 5,
	"0501": 10, "0502": 9, "0503": 8, "1101": 6, "1102": 7, "1201": 6, "1301": 6}

var (
	whens = []string{"今天早上", "今天上午", "中午路过时", "今天下午", "傍晚", "昨天晚上", "这几天", "最近一周", "连续三天了", "刚才",
		"周末", "每天上下班都看到", "已经半个多月了", "前天"}
	asks = []string{"希望尽快处理", "请相关部门来看看", "麻烦派人处理一下", "之前反映过一次还没解决", "谢谢", "请尽快安排清理",
		"希望加强管理", "盼复", "请城管部门关注", ""}
	landmarks = []string{"小区南门", "小区北门", "公交站台", "地铁站2号口", "地铁站4号口", "菜市场门口", "小学门口", "幼儿园旁边",
		"十字路口东北角", "十字路口西南角", "超市门口", "社区卫生服务中心", "公园东门", "银行网点前", "加油站对面", "农贸市场",
		"派出所旁边", "医院急诊入口", "停车场出口", "便利店门口", "快递驿站旁", "老年活动中心", "体育馆西侧", "图书馆门前",
		"中学后门", "人行天桥下", "桥洞下面", "河边步道", "街心花园", "健身广场"}
	streetNames = []string{"幸福路", "龙江路", "凤凰西街", "清凉门大街", "虎踞路", "宁海路", "湖南路", "中央路", "挹江门街", "热河南路",
		"小市街", "建宁路", "江东北路", "草场门大街", "华侨路", "山西路", "云南路", "广州路", "汉口西路", "北京西路", "上海路",
		"青岛路", "天津路", "颐和路", "江苏路", "西康路", "察哈尔路", "马台街", "三牌楼大街", "福建路", "新模范马路", "萨家湾",
		"南祖师庵", "金川河路", "童家巷", "秦淮北路", "定淮门大街", "石头城路", "阅江楼街", "姜家圩", "盐仓桥", "大方巷",
		"高家酒馆", "丁家桥", "峨嵋路", "五台山路", "随家仓", "莫愁路"}
	resolveNotes = []string{"已到场处理完毕，现场已恢复", "已联系责任单位整改到位", "已清理干净并告知周边商户", "已修复，现场拍照留存",
		"已劝离并做好宣传教育", "已协调物业共同处置", "已督促店主整改，明日回访", "已设置警示标志并安排维修", "已清运完毕"}
	happyComments   = []string{"处理很及时，谢谢", "效率很高，点赞", "已经弄好了，谢谢网格员", "满意", "速度很快", ""}
	unhappyComments = []string{"问题没有解决，还是老样子", "只处理了一半", "过两天又出现了", "拍的照片不是我反映的地方"}
	staffRejects    = []string{"经核实属于物业管理范围，已告知居民联系物业处理", "经现场核实，反映的问题不存在", "不属于城市管理事项，请拨打 12345 反映",
		"反映内容与城市管理无关"}
)

// text returns a description and an address of a report in category code
// (name is the category's name, for categories without their own wording)
// on one of streets.
func text(r *rand.Rand, code, name string, streets []string, district string) (desc, addr string) {
	var b strings.Builder
	w, ok := wordings[code]
	landmark := pick(r, landmarks)
	street := pick(r, streets)
	b.WriteString(pick(r, whens))
	switch r.IntN(3) {
	case 0:
		b.WriteString("在" + street + landmark + "，")
	case 1:
		b.WriteString("在" + street + strconv.Itoa(1+r.IntN(300)) + "号附近，")
	default:
		b.WriteString("在" + landmark + "，")
	}
	if ok {
		b.WriteString(pick(r, w.problems))
		b.WriteString("，")
		b.WriteString(pick(r, w.effects))
	} else {
		b.WriteString("发现" + name + "问题")
	}
	if ask := pick(r, asks); ask != "" {
		b.WriteString("，")
		b.WriteString(ask)
	}
	b.WriteString("。")
	addr = district + street + strconv.Itoa(1+r.IntN(300)) + "号"
	if r.IntN(2) == 0 {
		addr += landmark + "附近"
	}
	return b.String(), addr
}
