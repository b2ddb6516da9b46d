"""The special-care groups every community office keeps (administrators add more in the admin).

Visit intervals follow common practice of civil-affairs offices: elderly living alone weekly,
other vulnerable groups monthly. Existing rows with the same code are left as an operator set them.
"""
from django.db import migrations

LEVELS_DISABILITY = ["一级", "二级", "三级", "四级"]
LEVELS_MENTAL_RISK = ["0级", "1级", "2级", "3级", "4级", "5级"]
LEVELS_DEPENDENCY = ["轻度失能", "中度失能", "重度失能"]

# code, Chinese name, English name, levels, visit every (days), order
STANDARD_TAGS = [
    ("elderly_alone", "独居老人", "Elderly living alone", [], 7, 10),
    ("empty_nest", "空巢老人", "Empty-nest elderly", [], 14, 20),
    ("advanced_age", "高龄老人（80岁以上）", "Elderly aged 80 and over", [], 30, 30),
    ("dependent_elderly", "失能半失能老人", "Elderly needing care (disabled)", LEVELS_DEPENDENCY, 7, 40),
    ("disabled", "残疾人", "Person with a disability", LEVELS_DISABILITY, 30, 50),
    ("child_in_difficulty", "困境儿童", "Child in difficulty", [], 30, 60),
    ("left_behind_child", "留守儿童", "Left-behind child", [], 30, 70),
    ("unattended_child", "事实无人抚养儿童", "De facto unattended child", [], 30, 75),
    ("subsistence_allowance", "低保对象", "Subsistence allowance (dibao)", [], 90, 80),
    ("near_subsistence", "低保边缘家庭成员", "Low income, near subsistence level", [], 90, 85),
    ("extremely_poor", "特困人员", "Extremely poor (tekun support)", [], 30, 90),
    ("new_citizen", "新市民（流动人口）", "Migrant / new citizen", [], None, 100),
    ("veteran", "退役军人", "Veteran", [], None, 110),
    ("entitled_family", "优抚对象（烈属等）", "Entitled family (martyrs' families etc.)", [], 90, 115),
    ("key_youth", "重点青少年", "Key youth", [], 30, 120),
    ("severe_mental_illness", "严重精神障碍患者", "Severe mental illness (under care)", LEVELS_MENTAL_RISK, 30, 130),
    ("community_correction", "社区矫正对象", "Under community correction", [], 30, 140),
    ("pregnant", "孕产妇", "Pregnant or postpartum woman", [], 30, 150),
    ("serious_illness", "大病重病患者", "Serious or chronic illness", [], 30, 160),
]


def create_tags(apps, schema_editor):
    CareTag = apps.get_model("registry", "CareTag")
    for code, name, name_en, levels, visit_days, sort in STANDARD_TAGS:
        CareTag.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "name_en": name_en,
                "has_level": bool(levels),
                "levels": levels,
                "visit_every_days": visit_days,
                "sort": sort,
            },
        )


def remove_unused_tags(apps, schema_editor):
    CareTag = apps.get_model("registry", "CareTag")
    CareTag.objects.filter(code__in=[row[0] for row in STANDARD_TAGS], person_links__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("registry", "0002_caretag_levels")]
    operations = [migrations.RunPython(create_tags, remove_unused_tags)]
