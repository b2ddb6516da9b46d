"""Fixed codes written into the SQL text (communitygrid.core.sql)."""
from __future__ import annotations

import pytest

from communitygrid.accounts.models import Role, User
from communitygrid.core.sql import Code, codes, codes_sql


@pytest.mark.parametrize("value", ["x'; DROP TABLE cases_case; --", "Open", "in-app", "50%", " ", 7, None])
def test_anything_but_a_fixed_code_is_refused(value):
    with pytest.raises(ValueError):
        Code(value)
    with pytest.raises(ValueError):
        codes_sql(["open", value])


def test_codes_stand_in_the_sql_as_literals_and_filter_as_values_would(users):
    wanted = [Role.GRID_WORKER, Role.RESIDENT]
    query = User.objects.filter(role__in=codes(wanted))
    sql, params = query.query.sql_with_params()
    assert "'grid_worker', 'resident'" in sql and "grid_worker" not in params
    assert set(query) == set(User.objects.filter(role__in=wanted)) != set()
    assert set(User.objects.filter(role=Code(Role.RESIDENT))) == {users[Role.RESIDENT]}
    assert codes_sql(wanted) == "'grid_worker', 'resident'"

