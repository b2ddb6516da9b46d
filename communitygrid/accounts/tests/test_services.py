import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from communitygrid.accounts import services
from communitygrid.accounts.models import Department, Role, User
from communitygrid.geo.models import NodeStatus

PASSWORD = "a-long-and-unusual-passphrase-42"


@pytest.fixture
def department(db):
    return Department.objects.create(code="MZJ", name="民政局", kind=Department.Kind.CIVIL_AFFAIRS)


def create(**kwargs):
    values = {"username": "new-user", "password": PASSWORD, "role": Role.GRID_WORKER, "scope_codes": [],
              "actor": None}
    values.update(kwargs)
    return services.user_create(**values)


def errors_of(excinfo) -> dict:
    return excinfo.value.message_dict


@pytest.mark.parametrize(
    ("role", "codes"),
    [
        (Role.GRID_WORKER, ["S0C0G0"]),
        (Role.GRID_LEADER, ["S0C0G0", "S0C0G1"]),
        (Role.COMMUNITY_STAFF, ["S0C0"]),
        (Role.STREET_STAFF, ["S0"]),
        (Role.DISTRICT_STAFF, ["D"]),
        (Role.LEADER, ["D"]),
        (Role.RESIDENT, []),
        (Role.ADMIN, []),
    ],
)
def test_each_role_is_created_with_the_binding_it_needs(city, role, codes):
    user = create(role=role, scope_codes=codes, display_name=" 王 网格员 ")
    user.refresh_from_db()
    assert user.role == role
    assert sorted(user.scope_nodes.values_list("code", flat=True)) == sorted(codes)
    assert user.check_password(PASSWORD)
    assert user.display_name == "王 网格员"
    assert user.is_staff == (role == Role.ADMIN)


def test_department_staff_belong_to_a_department(city, department):
    user = create(role=Role.DEPARTMENT_STAFF, department_code="MZJ")
    assert user.department == department
    assert not user.scope_nodes.exists()


@pytest.mark.parametrize(
    ("kwargs", "field", "fragment"),
    [
        ({"role": Role.GRID_WORKER, "scope_codes": []}, "scope_codes", "at least one area"),
        ({"role": Role.GRID_WORKER, "scope_codes": ["S0C0"]}, "scope_codes", "S0C0"),
        ({"role": Role.STREET_STAFF, "scope_codes": ["S0C0G0"]}, "scope_codes", "S0C0G0"),
        ({"role": Role.COMMUNITY_STAFF, "scope_codes": ["NOPE", "S0C0"]}, "scope_codes", "NOPE"),
        ({"role": Role.RESIDENT, "scope_codes": ["S0C0G0"]}, "scope_codes", "no area scope"),
        ({"role": Role.ADMIN, "scope_codes": ["D"]}, "scope_codes", "no area scope"),
        ({"role": Role.DEPARTMENT_STAFF}, "department_code", "must belong"),
        ({"role": Role.DEPARTMENT_STAFF, "department_code": "XX"}, "department_code", "XX"),
        ({"role": Role.GRID_WORKER, "scope_codes": ["S0C0G0"], "department_code": "MZJ"}, "department_code", "Only department"),
        ({"role": "mayor"}, "role", "mayor"),
        ({"username": "", "scope_codes": ["S0C0G0"]}, "username", ""),
        ({"username": "has space", "scope_codes": ["S0C0G0"]}, "username", ""),
        ({"password": "123", "scope_codes": ["S0C0G0"]}, "password", ""),
        ({"password": "password123", "scope_codes": ["S0C0G0"]}, "password", ""),
    ],
)
def test_a_bad_binding_is_rejected_naming_the_field_and_nothing_is_written(city, department, kwargs, field, fragment):
    with translation_en(), pytest.raises(ValidationError) as caught:
        create(**kwargs)
    assert field in errors_of(caught)
    assert fragment in " ".join(errors_of(caught)[field])
    assert not User.objects.filter(username=kwargs.get("username", "new-user")).exists()


def test_a_retired_node_cannot_be_bound(city):
    grid = city.grids[0]
    grid.status = NodeStatus.RETIRED
    grid.save()
    with translation_en(), pytest.raises(ValidationError) as caught:
        create(scope_codes=[grid.code])
    assert "retired" in " ".join(errors_of(caught)["scope_codes"])


def test_usernames_are_unique_whatever_the_case(city):
    create(username="Wang", scope_codes=["S0C0G0"])
    with translation_en(), pytest.raises(ValidationError) as caught:
        create(username="wang", scope_codes=["S0C0G0"])
    assert "already taken" in " ".join(errors_of(caught)["username"])


def test_every_problem_is_reported_at_once(city):
    with pytest.raises(ValidationError) as caught:
        create(username="", password="1", scope_codes=[])
    assert set(errors_of(caught)) == {"username", "password", "scope_codes"}


def test_only_a_system_administrator_may_create_users(users):
    for role, actor in users.items():
        if role == Role.ADMIN:
            assert create(username=f"by-{role}", scope_codes=["S0C0G0"], actor=actor).pk
        else:
            with pytest.raises(PermissionDenied):
                create(username=f"by-{role}", scope_codes=["S0C0G0"], actor=actor)


def test_set_scope_rebinds_and_checks_the_role(users, city):
    worker = users[Role.GRID_WORKER]
    services.user_set_scope(user=worker, scope_codes=["S1C1G1", "S1C1G0"], actor=users[Role.ADMIN])
    assert sorted(worker.scope_nodes.values_list("code", flat=True)) == ["S1C1G0", "S1C1G1"]
    with pytest.raises(ValidationError):
        services.user_set_scope(user=worker, scope_codes=["S1"], actor=None)
    assert worker.scope_nodes.count() == 2
    with pytest.raises(PermissionDenied):
        services.user_set_scope(user=worker, scope_codes=["S0C0G0"], actor=users[Role.STREET_STAFF])


def test_set_scope_refreshes_the_cached_scope_paths(users, city):
    from communitygrid.accounts import scopes

    worker = users[Role.GRID_WORKER]
    before = scopes.scope_paths(worker)
    services.user_set_scope(user=worker, scope_codes=["S1C1G1"], actor=None)
    assert scopes.scope_paths(worker) != before


def translation_en():
    from django.utils import translation

    return translation.override("en")
