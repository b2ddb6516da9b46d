"""Demo data for cases: a year of realistic history, and a live trickle while the demo runs.

History follows what is known of residents' requests: the categories in the proportions of
the residents' own ranking of needs (plan §1.2: elderly care 67.2 %, health 58.9 %,
convenience services 52.3 %, culture and education 43.7 %, mediation 38.1 % — taken as
relative weights, with the grid office's everyday matters beside them), a weekday rhythm
(Monday busiest, Sunday quietest, statutory holidays quiet), seasons (repairs and
environment peak in the summer rains, health and elderly care in winter) and a daytime
curve. Each case went where routing sends it: the categories a department handles (the
catalogue's default handling unit) to that department's staff, the rest to the grid's worker;
a department's cases not yet accepted wait in its queue. Handling times follow the tier; most
cases close with the resident's rating, some by default after seven days, a few were reopened
once. Everything is written in bulk.
"""
from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict

import numpy as np
from django.db import transaction
from django.utils import timezone

from communitygrid.accounts.models import Department, Role, User
from communitygrid.cases.calendar import WorkingCalendar, local_zone
from communitygrid.cases.dispatch import department_for
from communitygrid.cases.models import Case, CaseEvent, Category, Channel, Handler, Status, Tier, Verdict

# Relative weight of each group of the catalogue in residents' requests.
GROUP_WEIGHTS = {
    "elderly": 67.2, "health": 58.9, "repairs": 52.3, "culture": 43.7, "disputes": 38.1,
    "property": 30.0, "environment": 30.0, "safety": 15.0, "assistance": 12.0, "affairs": 20.0,
}
# Monday … Sunday.
WEEKDAY = [1.25, 1.1, 1.05, 1.0, 1.0, 0.65, 0.55]
# Month multipliers (January first) by group; groups not named follow the flat year.
SEASON = {
    "repairs": [0.8, 0.7, 0.8, 0.9, 1.0, 1.3, 1.5, 1.4, 1.1, 0.9, 0.8, 0.9],
    "environment": [0.7, 0.7, 0.9, 1.0, 1.1, 1.3, 1.5, 1.4, 1.1, 0.9, 0.8, 0.7],
    "health": [1.4, 1.3, 1.1, 0.9, 0.8, 0.8, 0.9, 0.9, 0.9, 1.0, 1.2, 1.4],
    "elderly": [1.3, 1.3, 1.0, 0.9, 0.9, 1.0, 1.1, 1.0, 0.9, 0.9, 1.0, 1.2],
}
# Hour of day (local) weights, 0–23.
HOURS = np.array([1, 0.5, 0.3, 0.3, 0.3, 0.6, 1.5, 3, 6, 8, 8, 7, 5, 6, 7, 7, 6, 6, 5, 5, 4, 3, 2, 1.5])
# Median hours to accept and to resolve, by tier (log-normal around them).
ACCEPT_HOURS = {Tier.URGENT: 0.2, Tier.GENERAL: 3.0, Tier.COMPLEX: 20.0}
RESOLVE_HOURS = {Tier.URGENT: 3.0, Tier.GENERAL: 20.0, Tier.COMPLEX: 96.0}
# Ratings of confirmed cases (a rating of 1–2 would have reopened the case; the history does
# not replay reopenings).
RATINGS = ([5, 4, 3], [0.6, 0.3, 0.1])
DESCRIPTIONS = {
    "elderly": ["老人行动不便，需要上门帮助", "独居老人家中无人应答", "希望安排助餐服务"],
    "health": ["家中老人需要家庭医生上门", "咨询疫苗接种时间", "慢病随访预约"],
    "repairs": ["楼道灯坏了", "卫生间漏水到楼下", "单元门禁坏了", "下水道堵塞"],
    "culture": ["希望开设老年书法班", "社区活动室开放时间咨询", "孩子放学后无人看护"],
    "disputes": ["楼上装修噪音扰民", "邻居占用楼道堆放杂物", "租房押金纠纷"],
    "property": ["物业维修不及时", "小区停车位不足", "公共设施损坏"],
    "environment": ["垃圾清运不及时", "绿化带长期无人修剪", "流浪猫较多"],
    "safety": ["楼道电动车充电", "消防通道被占用", "井盖松动"],
    "assistance": ["咨询低保申请条件", "家庭突遇困难申请临时救助", "残疾人辅具申请"],
    "affairs": ["开具居住证明", "咨询社保政策", "对社区工作的建议"],
}


# What residents write, per category: a case reads as what its category says. A category not
# listed here (an administrator's own) takes its group's lines above.
LEAF_DESCRIPTIONS = {
    "elderly_help": ["独居老人家中无人应答，邻居担心出事", "老人在家摔倒起不来，请尽快派人"],
    "elderly_meals": ["希望给父亲安排老年助餐", "助餐点的饭菜太硬，老人咬不动"],
    "elderly_home_care": ["老人行动不便，需要上门帮忙洗澡", "想申请居家养老上门服务"],
    "elderly_subsidy": ["咨询高龄津贴怎么申请", "养老服务补贴这个月没有到账"],
    "elderly_visit": ["想请网格员有空来家里坐坐", "独居的母亲希望每周有人来看看"],
    "health_emergency": ["家里老人突发胸闷，已打120，请社区协助", "邻居突发晕倒，需要帮助联系家属"],
    "health_family_doctor": ["想签约家庭医生", "慢病随访预约不上"],
    "health_vaccination": ["咨询老人流感疫苗接种时间", "孩子疫苗接种点在哪里"],
    "health_epidemic": ["楼里有几户同时发热腹泻", "发现疑似传染病病例，请社区关注"],
    "health_mental": ["家人情绪低落很久了，想找心理咨询", "独居老人说睡不着，总是很焦虑"],
    "repair_leak": ["卫生间漏水到楼下", "楼顶渗水，下雨天墙面发霉"],
    "repair_plumbing": ["下水道堵塞，污水反溢", "厨房管道堵了好几天"],
    "repair_power": ["楼道线路跳闸，整个单元停电", "家里插座冒火花，不敢用电"],
    "repair_elevator": ["电梯困人，请尽快处理", "电梯经常停在两层之间"],
    "repair_door_access": ["单元门禁坏了，门关不上", "对讲机没声音，快递员进不来"],
    "repair_streetlight": ["楼道灯坏了", "小区门口的路灯晚上不亮"],
    "convenience": ["想预约上门修理门锁", "咨询社区有没有家电维修服务"],
    "property_service": ["物业维修不及时", "楼道卫生很久没人打扫"],
    "property_fees": ["物业费涨价没有公示", "对物业费收费标准有疑问"],
    "property_parking": ["小区停车位不足，车辆乱停", "消防通道旁总有车停放"],
    "property_renovation": ["楼上拆承重墙，担心安全", "装修垃圾堆在楼道好几天"],
    "property_facilities": ["小区健身器材损坏", "单元门口的台阶破损，老人容易绊倒"],
    "env_garbage": ["垃圾清运不及时，有异味", "垃圾桶满了两天没人收"],
    "env_sorting": ["单元门口垃圾分类桶混投严重，需要上门宣传", "不知道大件垃圾怎么分类投放"],
    "env_noise": ["晚上广场舞音乐声太大", "夜间施工噪音扰民"],
    "env_pollution": ["楼下饭店油烟直排进窗户", "河道有污水排入，气味很重"],
    "env_greening": ["绿化带长期无人修剪", "大树枝条压到电线上"],
    "env_pests": ["地下室老鼠很多", "夏天蚊子多，希望做一次消杀"],
    "env_animals": ["小区流浪猫较多", "流浪狗追咬孩子"],
    "safety_fire": ["楼道里有电动车充电", "消防通道被杂物堵塞"],
    "safety_gas": ["楼道里闻到燃气味", "邻居家燃气管道老化"],
    "safety_building": ["外墙有裂缝，担心安全", "阳台栏杆松动"],
    "safety_public_order": ["小区里有人半夜聚集喧哗", "楼下有陌生人推销，老人容易上当"],
    "safety_falling_objects": ["楼上经常往下扔东西", "外墙瓷砖有脱落危险"],
    "safety_manhole": ["井盖松动，走上去有响声", "路口的井盖丢了"],
    "dispute_neighbour": ["楼上装修噪音扰民", "邻居占用楼道堆放杂物"],
    "dispute_family": ["老人赡养问题，兄弟之间有矛盾", "家庭矛盾，希望社区调解"],
    "dispute_tenancy": ["房东不退押金", "租客拖欠房租，联系不上"],
    "dispute_wages": ["装修工人的工钱被拖欠", "小区保洁员反映工资没发"],
    "dispute_owners": ["业主和物业对维修费用有争议", "业委会选举有争议"],
    "culture_activity": ["希望社区多办文艺活动", "想报名社区乒乓球比赛"],
    "culture_childcare": ["孩子放学后无人看护", "咨询社区托育班的时间"],
    "culture_venue": ["社区活动室开放时间咨询", "想借用活动室办读书会"],
    "culture_elder_learning": ["希望开设老年书法班", "想学用智能手机，有没有课程"],
    "assist_subsistence": ["咨询低保申请条件", "低保复核需要准备什么材料"],
    "assist_temporary": ["家庭突遇困难申请临时救助", "家人重病，医疗费负担不起"],
    "assist_disability": ["残疾人辅具申请", "残疾人出行不便，希望加装扶手"],
    "assist_children": ["邻居家孩子长期无人照顾", "困境儿童助学金怎么申请"],
    "assist_employment": ["失业了，想找社区就业帮扶", "咨询公益性岗位"],
    "affairs_certificate": ["开具居住证明", "需要开具无犯罪记录证明的流程"],
    "affairs_policy": ["咨询社保政策", "咨询老旧小区改造政策"],
    "affairs_suggestion": ["对社区工作的建议", "建议在小区增设休息座椅"],
    "other": ["不知道该找谁，想咨询一下", "其他问题，请网格员联系我"],
}


def _description(rng, code: str, group: str) -> str:
    return str(rng.choice(LEAF_DESCRIPTIONS.get(code) or DESCRIPTIONS[group]))


def _weights_by_day(days: list[dt.date], groups: list[str]) -> np.ndarray:
    calendar = WorkingCalendar()
    table = np.empty((len(days), len(groups)))
    for i, day in enumerate(days):
        rest = 0.75 if not calendar.is_workday(day) and day.weekday() < 5 else 1.0  # a statutory holiday
        for j, group in enumerate(groups):
            season = SEASON.get(group, [1.0] * 12)[day.month - 1]
            table[i, j] = GROUP_WEIGHTS[group] * WEEKDAY[day.weekday()] * season * rest
    return table


class _Departments:
    """Which department handles a category in a grid, as routing decides it (asked once per kind
    and grid), and the active staff of each."""

    def __init__(self, grid_ids: list[int]):
        from communitygrid.geo.models import Node

        self.grids = {node.pk: node for node in Node.objects.filter(pk__in=grid_ids).only("id", "path")}
        self.staff = defaultdict(list)
        for user in User.objects.filter(role=Role.DEPARTMENT_STAFF, is_active=True,
                                        department__is_active=True).order_by("pk"):
            self.staff[user.department_id].append(user)
        self.found: dict[tuple[str, int], Department | None] = {}

    def of(self, category: Category, grid_id: int) -> Department | None:
        if category.handler != Handler.DEPARTMENT:
            return None
        if category.department_id is not None:
            return category.department
        if not category.department_kind:
            return None
        key = (category.department_kind, grid_id)
        if key not in self.found:
            self.found[key] = department_for(kind=category.department_kind, grid=self.grids[grid_id])
        return self.found[key]


def demo_history_build(*, per_year: int, seed: int = 7, today: dt.date | None = None) -> int:
    """About ``per_year`` cases over the 365 days before ``today``; returns how many were written."""
    rng = np.random.default_rng(seed)
    zone = local_zone()
    today = today or timezone.localdate()
    now = timezone.now()
    leaves = defaultdict(list)
    for category in Category.objects.filter(parent__isnull=False, is_active=True).select_related("parent",
                                                                                                 "department"):
        if category.parent.code in GROUP_WEIGHTS:
            leaves[category.parent.code].append(category)
    groups = [g for g in GROUP_WEIGHTS if leaves[g]]
    workers = defaultdict(list)
    for user in User.objects.filter(role=Role.GRID_WORKER, is_active=True).prefetch_related("scope_nodes"):
        for node in user.scope_nodes.all():
            workers[node.pk].append(user)
    from communitygrid.registry.models import Building

    places = list(Building.objects.filter(grid_id__in=list(workers)).values_list("grid_id", "lon", "lat"))
    if not groups or not places:
        return 0
    departments = _Departments(list(workers))
    days = [today - dt.timedelta(days=k) for k in range(365, 0, -1)]
    weights = _weights_by_day(days, groups)
    expected = weights / weights.sum() * per_year
    counts = rng.poisson(expected)
    hours = HOURS / HOURS.sum()
    cases, plans = [], []
    for i, day in enumerate(days):
        for j, group in enumerate(groups):
            for _ in range(counts[i, j]):
                category = leaves[group][rng.integers(len(leaves[group]))]
                grid_id, lon, lat = places[rng.integers(len(places))]
                start = dt.datetime.combine(day, dt.time(int(rng.choice(24, p=hours)), int(rng.integers(60))),
                                            tzinfo=zone).astimezone(dt.timezone.utc)
                tier = category.default_tier
                accepted = start + dt.timedelta(hours=float(rng.lognormal(math.log(ACCEPT_HOURS[tier]), 0.8)))
                resolved = accepted + dt.timedelta(hours=float(rng.lognormal(math.log(RESOLVE_HOURS[tier]), 0.7)))
                department = departments.of(category, grid_id)
                staff = departments.staff[department.pk] if department else []
                if not staff:  # no department, or none with staff: the grid's worker
                    department, staff = None, workers[grid_id]
                assignee = staff[rng.integers(len(staff))]
                case = Case(category=category, tier=tier, tier_reason="demo", description=_description(
                    rng, category.code, group), channel=str(rng.choice([Channel.APP, Channel.WEB, Channel.HOTLINE,
                                                                              Channel.DISCOVERY], p=[.45, .2, .25, .1])),
                    grid_id=grid_id, lon=lon + float(rng.normal(0, 0.0003)), lat=lat + float(rng.normal(0, 0.0003)),
                    assignee=assignee, department=department, created_at=start, updated_at=start, accepted_at=accepted,
                    respond_by=start + dt.timedelta(hours=ACCEPT_HOURS[tier] * 4),
                    resolve_by=start + dt.timedelta(hours=RESOLVE_HOURS[tier] * 3))
                if resolved > now:  # still being handled today: the sweep watches it like any other
                    case.status = Status.ACCEPTED if accepted <= now else Status.ASSIGNED
                    case.accepted_at = accepted if accepted <= now else None
                    if department is not None and case.accepted_at is None:
                        case.assignee = None  # in the department's queue until one of its staff takes it
                    case.escalate_at = case.resolve_by if case.accepted_at else case.respond_by
                    plans.append((case, []))
                    cases.append(case)
                    continue
                rating = int(rng.choice(RATINGS[0], p=RATINGS[1]))
                by_default = rng.random() < 0.06
                closed = resolved + dt.timedelta(days=7 if by_default else float(rng.exponential(1.0)))
                case.status = Status.CLOSED if closed <= now else Status.RESOLVED
                case.resolved_at, case.closed_at = resolved, closed if closed <= now else None
                case.verdict = (Verdict.DEFAULT if by_default else Verdict.CONFIRMED) if closed <= now else ""
                case.rating = None if by_default or closed > now else rating
                case.verdict_due_at = None if closed <= now else resolved + dt.timedelta(days=7)
                case.updated_at = min(closed, now)
                steps = [("accept", Status.ASSIGNED, Status.ACCEPTED, accepted, assignee),
                         ("resolve", Status.ACCEPTED, Status.RESOLVED, resolved, assignee)]
                if closed <= now:
                    steps.append(("close" if by_default else "confirm", Status.RESOLVED, Status.CLOSED, closed, None))
                plans.append((case, steps))
                cases.append(case)
    for case in cases:
        case.next_check_at = case.next_check()
    with transaction.atomic():
        Case.objects.bulk_create(cases, batch_size=2000)
        events = []
        for case, steps in plans:
            events.append(CaseEvent(case=case, at=case.created_at, actor=None, actor_role="system", action="submit",
                                    from_status="", to_status=Status.SUBMITTED, note="demo"))
            events.append(CaseEvent(case=case, at=case.created_at, actor=None, actor_role="system", action="dispatch",
                                    from_status=Status.SUBMITTED, to_status=Status.ASSIGNED, note="demo"))
            role = Role.DEPARTMENT_STAFF if case.department_id else Role.GRID_WORKER
            if case.status == Status.ACCEPTED:
                events.append(CaseEvent(case=case, at=case.accepted_at, actor=case.assignee, actor_role=role,
                                        action="accept", from_status=Status.ASSIGNED, to_status=Status.ACCEPTED))
            for action, before, after, at, actor in steps:
                events.append(CaseEvent(case=case, at=at, actor=actor, actor_role=role if actor else "system",
                                        action=action, from_status=before, to_status=after))
        CaseEvent.objects.bulk_create(events, batch_size=5000)
    return len(cases)


def demo_trickle_once(*, seed: int | None = None) -> int:
    """Submit zero to two new cases from demo residents, as the live demo's background job."""
    from communitygrid.cases.services import case_submit
    from communitygrid.registry.models import Building

    rng = np.random.default_rng(seed)
    residents = list(User.objects.filter(role=Role.RESIDENT, is_active=True).values_list("pk", flat=True)[:500])
    codes = list(Category.objects.filter(parent__code__in=list(GROUP_WEIGHTS), is_active=True)
                 .values_list("code", "parent__code"))
    if not residents or not codes:
        return 0
    submitted = 0
    for _ in range(int(rng.integers(0, 3))):
        building = Building.objects.order_by("?").values_list("lon", "lat").first()
        if building is None:
            break
        code, group = codes[rng.integers(len(codes))]
        case_submit(submitted_by=User.objects.get(pk=residents[rng.integers(len(residents))]),
                    channel=str(rng.choice([Channel.APP, Channel.WEB])), category_code=code,
                    description=_description(rng, code, group), lon=building[0], lat=building[1])
        submitted += 1
    return submitted
