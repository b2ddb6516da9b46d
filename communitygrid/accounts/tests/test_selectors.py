import pytest

from communitygrid.accounts.models import Role
from communitygrid.accounts.selectors import user_queryset
from communitygrid.testing import make_user


@pytest.fixture
def outsider(users, city):
    return make_user(Role.GRID_WORKER, scope=[city.grids[-1]], username="outsider")


def names(user):
    return set(user_queryset(user=user).values_list("username", flat=True))


def test_admin_sees_every_account(users, outsider):
    assert len(names(users[Role.ADMIN])) == len(users) + 1


def test_area_staff_see_staff_inside_their_areas_and_themselves(users, outsider):
    worker, leader = users[Role.GRID_WORKER], users[Role.GRID_LEADER]
    community, street = users[Role.COMMUNITY_STAFF], users[Role.STREET_STAFF]
    assert names(worker) == {worker.username, leader.username}
    assert names(community) == {community.username, worker.username, leader.username}
    assert names(street) == {street.username, community.username, worker.username, leader.username}
    district = users[Role.DISTRICT_STAFF]
    assert outsider.username in names(district)
    assert users[Role.LEADER].username in names(district)  # bound to the district node itself
    assert users[Role.RESIDENT].username not in names(district)


@pytest.mark.parametrize("role", [Role.RESIDENT, Role.DEPARTMENT_STAFF, Role.LEADER])
def test_other_roles_see_only_themselves(users, outsider, role):
    assert names(users[role]) == {users[role].username}


def test_inactive_and_anonymous_users_see_nobody(users):
    from django.contrib.auth.models import AnonymousUser

    admin = users[Role.ADMIN]
    admin.is_active = False
    assert not user_queryset(user=admin).exists()
    assert not user_queryset(user=AnonymousUser()).exists()
