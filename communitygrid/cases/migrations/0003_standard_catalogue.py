"""The standard case catalogue (two levels) that administrators then edit in the back-office.

Groups follow the residents' own ranking of needs (plan §1.2: elderly care, health, convenience
services, culture and education, mediation) plus the areas a grid office handles every day.
Tiers follow plan §5.4: someone in danger is urgent, a repair is general, a dispute complex.
Rows already present (same code) are left as an operator set them.
"""
from django.db import migrations

U, G, C = "urgent", "general", "complex"
W, D = "grid_worker", "department"

# group code, Chinese, English, [(leaf code, Chinese, English, tier, handler, department kind, resolve days, guide)]
CATALOGUE = [
    ("elderly", "养老服务", "Elderly care", [
        ("elderly_help", "独居老人求助", "Elderly person living alone asks for help", U, W, "", None,
         "30分钟内电话或上门确认老人安全；必要时拨打120并联系紧急联系人。"),
        ("elderly_meals", "老年助餐", "Meals for the elderly", G, W, "", 3, "对接社区长者食堂或助餐点，确认送餐时间与饮食禁忌。"),
        ("elderly_home_care", "居家养老上门服务", "Home care visits", G, D, "social_org", 5, "转承接的社会组织，约定上门时间并回访。"),
        ("elderly_subsidy", "养老补贴办理", "Elderly care subsidies", C, D, "civil_affairs", 15, "核对年龄与户籍条件，指导准备材料。"),
        ("elderly_visit", "探访关爱申请", "Request for a caring visit", G, W, "", 5, "安排网格员或志愿者探访，记录走访情况。"),
    ]),
    ("health", "健康医疗", "Health", [
        ("health_emergency", "突发疾病求助", "Sudden illness, asks for help", U, W, "", None, "先确认是否已拨打120；到场协助并通知家属。"),
        ("health_family_doctor", "家庭医生签约与慢病随访", "Family doctor and chronic care", G, D, "health", 5, "转社区卫生服务中心安排签约或随访。"),
        ("health_vaccination", "疫苗接种咨询", "Vaccination", G, D, "health", 3, "告知接种点、时间与所需证件。"),
        ("health_epidemic", "传染病疫情报告", "Suspected infectious disease", U, D, "health", None, "立即报告卫生部门，按流程做好防护与登记。"),
        ("health_mental", "心理健康援助", "Mental health support", C, D, "health", 10, "联系专业社工或心理咨询师，注意保护隐私。"),
    ]),
    ("repairs", "维修便民", "Repairs and convenience services", [
        ("repair_leak", "漏水渗水", "Water leak or seepage", G, D, "property", 5, "先止损；涉及楼上楼下时协调物业、住建联动处理。"),
        ("repair_plumbing", "管道堵塞", "Blocked pipe or drain", G, D, "property", 3, "联系物业疏通，公共管道由物业负责。"),
        ("repair_power", "线路故障停电", "Electrical fault, no power", G, D, "property", 3, "确认是否为户内故障，公共线路由物业或供电公司处理。"),
        ("repair_elevator", "电梯故障", "Lift out of order", G, D, "property", 3, "有人被困时按紧急处理并通知维保单位。"),
        ("repair_door_access", "门禁对讲故障", "Door entry system fault", G, D, "property", 5, "通知物业维修，期间安排临时出入管理。"),
        ("repair_streetlight", "路灯不亮", "Street light out", G, D, "urban_management", 5, "记录路灯编号与位置，转城管或路灯所。"),
        ("convenience", "便民服务预约", "Convenience services (locks, appliances)", G, W, "", 3, "推荐社区认证的便民服务商并回访质量。"),
    ]),
    ("property", "物业管理", "Property management", [
        ("property_service", "物业服务质量", "Quality of property services", G, D, "property", 5, "约谈物业，对照服务合同核实。"),
        ("property_fees", "物业费争议", "Property fee dispute", C, D, "property", 15, "核对收费依据与公示情况，必要时组织三方协商。"),
        ("property_parking", "小区停车", "Parking in the estate", G, D, "property", 5, "协调物业规划车位，处理占用消防通道问题。"),
        ("property_renovation", "违规装修", "Illegal renovation", G, D, "housing", 10, "现场核实，涉及承重结构时转住建部门。"),
        ("property_facilities", "公共设施损坏", "Damaged shared facilities", G, D, "property", 5, "拍照登记，督促物业或维修基金使用。"),
    ]),
    ("environment", "环境卫生", "Environment and sanitation", [
        ("env_garbage", "垃圾清运不及时", "Rubbish not collected", G, D, "urban_management", 2, "通知环卫清运，记录点位。"),
        ("env_sorting", "垃圾分类", "Waste sorting", G, W, "", 5, "上门宣传指导，督促分类投放。"),
        ("env_noise", "噪声扰民", "Noise nuisance", G, D, "urban_management", 5, "核实噪声来源与时段，夜间施工转城管。"),
        ("env_pollution", "油烟污水污染", "Fumes or sewage pollution", G, D, "urban_management", 10, "现场取证，转相关执法部门。"),
        ("env_greening", "绿化养护", "Green space upkeep", G, D, "urban_management", 10, "联系绿化养护单位修剪或补植。"),
        ("env_pests", "病媒消杀", "Pests (rats, cockroaches, mosquitoes)", G, D, "health", 5, "安排消杀，公共区域由物业配合。"),
        ("env_animals", "流浪动物", "Stray animals", G, W, "", 5, "联系动物救助组织，注意人员安全。"),
    ]),
    ("safety", "安全隐患", "Safety hazards", [
        ("safety_fire", "消防隐患", "Fire hazard (blocked exits, e-bike charging)", G, W, "", 3, "现场劝导整改；发现明火立即报119。"),
        ("safety_gas", "燃气泄漏", "Gas leak", U, W, "", None, "立即疏散、严禁明火，通知燃气公司抢修。"),
        ("safety_building", "房屋安全", "Unsafe building (cracks, danger)", C, D, "housing", 15, "设置警示，转住建部门鉴定。"),
        ("safety_public_order", "治安问题", "Public order", G, D, "police", 5, "转派出所，涉及人身危险时立即报110。"),
        ("safety_falling_objects", "高空坠物隐患", "Risk of falling objects", G, D, "property", 3, "设置警示区域，督促业主或物业清除。"),
        ("safety_manhole", "井盖缺失破损", "Missing or broken manhole cover", U, D, "urban_management", 1, "立即设置围挡警示，转城管抢修。"),
    ]),
    ("disputes", "矛盾调解", "Disputes and mediation", [
        ("dispute_neighbour", "邻里纠纷", "Neighbour dispute", C, W, "", 15, "网格员先行调解，调解不成报社区人民调解委员会。"),
        ("dispute_family", "家庭纠纷", "Family dispute", C, W, "", 15, "注意是否涉及家庭暴力，必要时报警并联系妇联。"),
        ("dispute_tenancy", "租赁纠纷", "Tenancy dispute", C, W, "", 15, "核对租赁合同，引导协商或法律援助。"),
        ("dispute_wages", "劳资纠纷", "Unpaid wages", C, D, "other", 20, "转劳动监察部门，指导收集证据。"),
        ("dispute_owners", "业主与物业纠纷", "Dispute between owners and property company", C, D, "housing", 20, "组织业委会、物业、住建三方协商。"),
    ]),
    ("culture", "文化教育", "Culture and education", [
        ("culture_activity", "文体活动", "Cultural and sports activities", G, W, "", 10, "纳入社区活动计划并反馈居民。"),
        ("culture_childcare", "托育与课后服务", "Childcare and after-school care", G, D, "social_org", 10, "对接托育机构或四点半课堂。"),
        ("culture_venue", "活动场地使用", "Use of community venues", G, W, "", 5, "协调场地开放时间与预约。"),
        ("culture_elder_learning", "老年教育", "Learning for older people", G, D, "social_org", 10, "对接老年学校或线上课程。"),
    ]),
    ("assistance", "社会救助", "Social assistance", [
        ("assist_subsistence", "低保申请", "Subsistence allowance (dibao)", C, D, "civil_affairs", 20, "入户核查家庭经济状况，按程序公示。"),
        ("assist_temporary", "临时救助", "Emergency assistance", G, D, "civil_affairs", 5, "急难情况先行救助，再补办手续。"),
        ("assist_disability", "残疾人帮扶", "Support for people with disabilities", G, D, "civil_affairs", 10, "对接残联政策与辅具申请。"),
        ("assist_children", "困境儿童帮扶", "Children in difficulty", G, D, "civil_affairs", 10, "儿童主任跟进，落实监护与保障。"),
        ("assist_employment", "就业援助", "Help finding work", G, D, "other", 10, "推荐岗位与技能培训。"),
    ]),
    ("affairs", "政务咨询与其他", "Public affairs and other", [
        ("affairs_certificate", "证明开具", "Certificates and documents", G, W, "", 3, "告知所需材料与办理地点。"),
        ("affairs_policy", "政策咨询", "Policy questions", G, W, "", 3, "准确答复并注明政策依据。"),
        ("affairs_suggestion", "意见建议", "Suggestion", C, W, "", 15, "登记建议，答复采纳情况并公开。"),
        ("other", "其他", "Other", G, W, "", None, "核实诉求后改为准确分类。"),
    ]),
]


def create_catalogue(apps, schema_editor):
    Category = apps.get_model("cases", "Category")
    for group_sort, (code, name, name_en, leaves) in enumerate(CATALOGUE, start=1):
        group, _ = Category.objects.get_or_create(
            code=code, defaults={"name": name, "name_en": name_en, "sort": group_sort * 100}
        )
        for leaf_sort, (leaf, leaf_name, leaf_en, tier, handler, kind, days, guide) in enumerate(leaves, start=1):
            Category.objects.get_or_create(
                code=leaf,
                defaults={
                    "name": leaf_name, "name_en": leaf_en, "parent": group, "default_tier": tier, "handler": handler,
                    "department_kind": kind, "resolve_days": days, "guide": guide, "sort": group_sort * 100 + leaf_sort,
                },
            )


def remove_unused(apps, schema_editor):
    Category = apps.get_model("cases", "Category")
    codes = [leaf[0] for _, _, _, leaves in CATALOGUE for leaf in leaves]
    Category.objects.filter(code__in=codes, cases__isnull=True).delete()
    Category.objects.filter(code__in=[group[0] for group in CATALOGUE], children__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("cases", "0002_case_event_append_only")]
    operations = [migrations.RunPython(create_catalogue, remove_unused)]
