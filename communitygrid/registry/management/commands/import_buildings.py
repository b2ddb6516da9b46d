from communitygrid.registry.importing import import_buildings
from communitygrid.registry.management.commands._import_command import ImportCommand


class Command(ImportCommand):
    help = (
        "Import buildings (CSV or XLSX, Chinese or English headers). Required columns: code/楼栋编号, "
        "name/楼栋名称, lon/经度, lat/纬度 (WGS-84). Optional: address/地址, kind/类型, floors/层数, "
        "units/单元 (3, 1-3 or 1,2,5), rooms per floor/每层户数 (creates rooms 101, 102, … on every floor of "
        "every unit), grid code/网格编码 (otherwise the grid containing lon/lat). A re-import updates buildings "
        "by code and adds missing units and rooms; it never deletes. Exit status as import-households."
    )

    def handle(self, *args, **options):
        self.run_import(import_buildings, options)
