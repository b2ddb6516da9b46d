from communitygrid.geo.selectors import locate, locate_path


def test_locate_returns_the_deepest_grid(city):
    node = locate(lon=120.015, lat=30.005)
    assert node.code == "S0C0G1"
    assert [n.code for n in locate_path(lon=120.015, lat=30.005)] == ["C", "D", "S0", "S0C0", "S0C0G1"]


def test_locate_outside_every_grid_is_none(city):
    assert locate(lon=121.0, lat=30.005) is None
    assert locate_path(lon=121.0, lat=30.005) == []
