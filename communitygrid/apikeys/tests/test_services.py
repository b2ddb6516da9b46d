import pytest
from django.core.exceptions import ValidationError

from communitygrid.accounts.models import Role
from communitygrid.apikeys import services
from communitygrid.apikeys.errors import BadKey, MissingScope, RateLimited
from communitygrid.apikeys.models import ApiKey, ApiKeyRateWindow, Scope


def test_a_new_key_is_stored_as_a_hash_and_prefix_only(city, make_key):
    new = make_key([city.streets[0]])
    key = ApiKey.objects.get(pk=new.key.pk)
    assert new.plaintext.startswith(f"cg_{key.prefix}_")
    assert key.key_hash == services.key_hash(new.plaintext)
    stored = " ".join(str(v) for v in ApiKey.objects.filter(pk=key.pk).values().first().values())
    assert new.plaintext not in stored
    assert services.apikey_authenticate(new.plaintext) == key


def test_a_published_key_has_a_generated_key_s_shape_and_the_same_checks_and_lookup(city, organisation, make_key):
    assert services.KEY_SHAPE.match(make_key([city.streets[0]]).plaintext)
    kwargs = {"organisation": organisation, "name": "demo", "scopes": [Scope.OPEN311], "nodes": [city.streets[1]]}
    for bad in ["cg_0311de00_short", "cg_0311DE00_" + "a" * 32, "xx_0311de00_" + "a" * 32]:
        with pytest.raises(ValueError):
            services.apikey_create_published(plaintext=bad, **kwargs)
    with pytest.raises(ValidationError) as exc:
        services.apikey_create_published(plaintext="cg_0311de00_" + "a" * 32, **{**kwargs, "scopes": []})
    assert "scopes" in exc.value.message_dict
    assert ApiKey.objects.count() == 1
    published = services.apikey_create_published(plaintext="cg_0311de00_" + "a" * 32, **kwargs).key
    assert published.prefix == "0311de00" and published.user.role == Role.STREET_STAFF
    assert services.apikey_authenticate("cg_0311de00_" + "a" * 32) == published
    with pytest.raises(BadKey):
        services.apikey_authenticate("cg_0311de00_" + "a" * 31 + "b")


def test_the_service_account_takes_the_role_of_its_areas_level(city, make_key):
    assert make_key([city.streets[0]]).key.user.role == Role.STREET_STAFF
    assert make_key([city.communities[0]]).key.user.role == Role.COMMUNITY_STAFF
    grid_key = make_key([city.grids[0]]).key
    assert grid_key.user.role == Role.GRID_LEADER  # never a grid worker: dispatch must not pick a key
    assert list(grid_key.user.scope_nodes.all()) == [city.grids[0]]
    assert not grid_key.user.has_usable_password()


@pytest.mark.parametrize(("overrides", "field"), [
    ({"name": " "}, "name"),
    ({"scopes": []}, "scopes"),
    ({"scopes": ["cases:write"]}, "scopes"),
    ({"rate_limit": 0}, "rate_limit"),
    ({"nodes": []}, "nodes"),
])
def test_bad_keys_are_refused_naming_the_field(city, organisation, overrides, field):
    kwargs = {"organisation": organisation, "name": "n", "scopes": [Scope.CASES_READ], "nodes": [city.streets[0]],
              "rate_limit": 10, **overrides}
    with pytest.raises(ValidationError) as exc:
        services.apikey_create(actor=None, **kwargs)
    assert field in exc.value.message_dict
    assert not ApiKey.objects.exists()


def test_areas_of_mixed_levels_are_refused(city, organisation):
    with pytest.raises(ValidationError) as exc:
        services.apikey_create(organisation=organisation, name="n", scopes=[Scope.CASES_READ],
                               nodes=[city.streets[0], city.grids[0]], actor=None)
    assert "nodes" in exc.value.message_dict


def test_only_a_system_administrator_creates_keys(city, users, organisation):
    with pytest.raises(ValidationError):
        services.apikey_create(organisation=organisation, name="n", scopes=[Scope.CASES_READ],
                               nodes=[city.streets[0]], actor=users[Role.STREET_STAFF])


def test_a_revoked_key_is_refused_saying_so(city, users, make_key):
    new = make_key([city.streets[0]])
    services.apikey_revoke(key=new.key, actor=users[Role.ADMIN], reason="leaked")
    with pytest.raises(BadKey, match="revoked"):
        services.apikey_authenticate(new.plaintext)
    new.key.user.refresh_from_db()
    assert not new.key.user.is_active  # every scoped selector now returns nothing for it


def test_unknown_and_malformed_keys_are_refused(db):
    for raw in ["", "nope", "cg_deadbeef_" + "x" * 32, "cg_" + "x" * 300]:
        with pytest.raises(BadKey):
            services.apikey_authenticate(raw)


def test_the_rate_limit_counts_per_minute_and_says_when_to_retry(city, make_key):
    import datetime as dt

    from django.utils import timezone

    key = make_key([city.streets[0]], rate_limit=3).key
    start = timezone.now().replace(second=10, microsecond=0)
    for _ in range(3):
        services.apikey_rate_hit(key=key, now=start)
    with pytest.raises(RateLimited) as exc:
        services.apikey_rate_hit(key=key, now=start)
    assert exc.value.retry_after == 50
    services.apikey_rate_hit(key=key, now=start + dt.timedelta(minutes=1))  # a new minute
    assert ApiKeyRateWindow.objects.filter(key=key).count() == 1  # the old minute was dropped


def test_scopes_are_checked(city, make_key):
    key = make_key([city.streets[0]], scopes=[Scope.CASES_READ]).key
    services.apikey_require_scope(key, Scope.CASES_READ)
    with pytest.raises(MissingScope, match="cases:submit"):
        services.apikey_require_scope(key, Scope.CASES_SUBMIT)
