"""Indexes that keep GET requests an index range scan, and the questions of a few standard services.

The indexes live on the cases table but serve only Open311's orderings (newest first, and the
``updated_after`` extension), so they are created here rather than in the cases app's models.
"""
from django.db import migrations

# The open states as in cases.models.OPEN_STATES (status=open is what 311 apps ask for most).
OPEN = "'submitted', 'assigned', 'accepted', 'in_progress', 'waiting_resident', 'reopened'"
INDEXES = [
    ("open311_case_created_id", "cases_case", "created_at, id", ""),
    ("open311_case_updated_id", "cases_case", "updated_at, id", ""),
    ("open311_case_open_category_created", "cases_case", "category_id, created_at, id", f"WHERE status IN ({OPEN})"),
]

YES_NO = [{"key": "yes", "name": "是", "name_en": "Yes"}, {"key": "no", "name": "否", "name_en": "No"}]
STANDARD = {
    "safety_manhole": [
        dict(code="cover_state", datatype="singlevaluelist", required=True, order=1,
             description="井盖是什么情况？", description_en="What is wrong with the cover?",
             values=[{"key": "missing", "name": "缺失", "name_en": "Missing"},
                     {"key": "broken", "name": "破损", "name_en": "Broken"},
                     {"key": "loose", "name": "松动", "name_en": "Loose"}]),
    ],
    "repair_elevator": [
        dict(code="people_trapped", datatype="singlevaluelist", required=True, order=1,
             description="是否有人被困？", description_en="Is anyone trapped?", values=YES_NO),
        dict(code="floor", datatype="number", required=False, order=2, description="停在第几层？",
             description_en="Which floor is it stuck at?", datatype_description="整数 / a whole number"),
    ],
    "env_garbage": [
        dict(code="waste_kinds", datatype="multivaluelist", required=False, order=1,
             description="是哪些垃圾？", description_en="What kind of rubbish?",
             values=[{"key": "household", "name": "生活垃圾", "name_en": "Household waste"},
                     {"key": "kitchen", "name": "厨余垃圾", "name_en": "Kitchen waste"},
                     {"key": "bulky", "name": "大件垃圾", "name_en": "Bulky items"},
                     {"key": "construction", "name": "建筑垃圾", "name_en": "Construction waste"}]),
        dict(code="since", datatype="datetime", required=False, order=2, description="从什么时候开始没人清运？",
             description_en="Since when has it not been collected?"),
    ],
    "repair_streetlight": [
        dict(code="pole_number", datatype="string", required=False, order=1, description="路灯杆编号",
             description_en="Number on the lamp post", datatype_description="灯杆上的编号 / as written on the post"),
    ],
}


def create_standard_attributes(apps, schema_editor):
    Category = apps.get_model("cases", "Category")
    ServiceAttribute = apps.get_model("open311", "ServiceAttribute")
    for code, attributes in STANDARD.items():
        category = Category.objects.filter(code=code).first()
        if category is None:
            continue
        for attribute in attributes:
            ServiceAttribute.objects.get_or_create(category=category, code=attribute["code"],
                                                   defaults={k: v for k, v in attribute.items() if k != "code"})


class Migration(migrations.Migration):
    dependencies = [
        ("open311", "0001_initial"),
        ("cases", "0003_standard_catalogue"),
    ]

    operations = [
        *[migrations.RunSQL(f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({columns}) {where}",
                            f"DROP INDEX IF EXISTS {name}") for name, table, columns, where in INDEXES],
        migrations.RunPython(create_standard_attributes, migrations.RunPython.noop),
    ]
