from communitygrid.registry.importing import import_households
from communitygrid.registry.management.commands._import_command import ImportCommand


class Command(ImportCommand):
    help = (
        "Import households, one row per person (CSV or XLSX, Chinese or English headers). Required columns: "
        "household code/户编号, building code/楼栋编号, room/房号, name/姓名, ID number/公民身份号码. Optional: "
        "unit/单元, address/详细地址, tenure/住房性质, gender/性别, birth date/出生日期, phone/联系电话, "
        "household role/与户主关系, residence status/居住状态, registered address/户籍地址, employment/就业状况, "
        "employer/工作单位, care tags/特殊人群 (code[:level]; ...), emergency contact/紧急联系人, "
        "emergency contact phone/紧急联系人电话, health notes/健康状况. Every rejected row is reported with its "
        "line number; accepted rows are written in one transaction; persons are matched on their ID number, "
        "households on their code, so a re-import updates. Exit status: 0 all rows imported, 2 some rows "
        "rejected (the others written), 1 nothing written."
    )

    def handle(self, *args, **options):
        self.run_import(import_households, options)
