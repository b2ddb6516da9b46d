import datetime as dt

import pytest
from django import forms
from django.core import serializers
from django.db import models
from django.db import connection

from communitygrid.privacy import crypto
from communitygrid.privacy.fields import Sensitive, SensitiveInput
from communitygrid.registry.models import Person
from communitygrid.testing import id_number_for

BIRTH = dt.date(1950, 3, 4)


@pytest.fixture
def grid(city):
    return city.grids[0]


def person(grid, seq=1, **extra):
    values = {"grid": grid, "name": f"张三{seq}", "gender": "M", "birth_date": BIRTH,
              "id_number": id_number_for(BIRTH, seq), "phone": f"1381234{seq:04d}"}
    values.update(extra)
    return Person(**values)


def raw_column(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608 (test-only names)
        return cursor.fetchone()[0]


def test_str_and_repr_show_only_the_masked_value(grid):
    p = person(grid)
    assert isinstance(p.phone, Sensitive)
    assert str(p.phone) == "138****0001"
    assert "12340001" not in repr(p.phone)
    assert f"{p.phone}" == "138****0001"
    assert p.phone.reveal() == "13812340001"


def test_database_column_holds_ciphertext_not_plaintext(grid):
    p = person(grid)
    p.save()
    stored = raw_column("registry_person", "phone", p.pk)
    assert "13812340001" not in stored
    assert crypto.decrypt(stored) == "13812340001"


def test_loaded_value_decrypts_lazily_and_masks(grid):
    person(grid).save()
    loaded = Person.objects.get()
    assert str(loaded.phone) == "138****0001"
    assert loaded.phone.reveal() == "13812340001"
    assert loaded.phone == Sensitive("phone", plain="13812340001")


def test_save_fills_blind_index_for_exact_search(grid):
    person(grid).save()
    hit = Person.objects.get(phone_bidx=crypto.blind_index("phone", "+86 138-1234-0001"))
    assert hit.name == "张三1"


def test_bulk_create_fills_blind_index(grid):
    Person.objects.bulk_create([person(grid, seq) for seq in range(1, 4)])
    for seq in range(1, 4):
        found = Person.objects.get(id_number_bidx=crypto.blind_index("id_number", id_number_for(BIRTH, seq)))
        assert found.name == f"张三{seq}"


def test_reassigning_a_value_updates_the_blind_index(grid):
    p = person(grid)
    p.save()
    p.phone = "13900000000"
    p.save()
    assert Person.objects.filter(phone_bidx=crypto.blind_index("phone", "13900000000")).count() == 1
    assert not Person.objects.filter(phone_bidx=crypto.blind_index("phone", "13812340001")).exists()


def test_clearing_a_value_clears_the_blind_index(grid):
    p = person(grid)
    p.save()
    p.phone = ""
    p.save()
    p.refresh_from_db()
    assert p.phone is None
    assert p.phone_bidx is None


def test_deferred_field_loads_on_first_access(grid, django_assert_num_queries):
    person(grid).save()
    loaded = Person.objects.defer("phone").get()
    with django_assert_num_queries(1):
        assert str(loaded.phone) == "138****0001"


def test_only_loads_the_named_fields_and_fetches_the_rest_on_access(grid, django_assert_num_queries):
    person(grid).save()
    loaded = Person.objects.only("id", "id_number").get()
    with django_assert_num_queries(0):
        assert loaded.id_number.reveal() == id_number_for(BIRTH, 1)
    with django_assert_num_queries(1):
        assert loaded.phone.reveal() == "13812340001"


def test_values_list_returns_sensitive_wrappers_not_plaintext(grid):
    person(grid).save()
    (value,) = Person.objects.values_list("phone", flat=True)
    assert isinstance(value, Sensitive)
    assert str(value) == "138****0001"


def test_serialisation_writes_the_masked_form(grid):
    p = person(grid)
    p.save()
    dumped = serializers.serialize("json", [p])
    assert "138****0001" in dumped
    assert "13812340001" not in dumped


def test_none_is_stored_as_null(grid):
    p = person(grid, phone=None)
    p.save()
    assert raw_column("registry_person", "phone", p.pk) is None
    assert Person.objects.get().phone is None


def test_sensitive_is_not_hashable():
    with pytest.raises(TypeError):
        hash(Sensitive("phone", plain="13812345678"))


class PersonForm(forms.ModelForm):
    class Meta:
        model = Person
        fields = ["name", "phone", "id_number", "health_notes"]


def test_a_form_never_renders_the_stored_value_only_a_masked_placeholder(grid):
    p = person(grid, health_notes="糖尿病")
    p.save()
    html = str(PersonForm(instance=p))
    assert "13812340001" not in html and "糖尿病" not in html
    assert 'placeholder="138****0001"' in html
    assert 'value="138****0001"' not in html
    assert 'autocomplete="off"' in html


def test_saving_a_form_with_empty_sensitive_inputs_keeps_the_stored_values(grid):
    p = person(grid, health_notes="糖尿病")
    p.save()
    form = PersonForm({"name": "张三改", "phone": "", "id_number": "", "health_notes": ""}, instance=p)
    assert form.is_valid(), form.errors
    assert set(form.changed_data) == {"name"}
    form.save()
    p = Person.objects.get()
    assert (p.name, p.phone.reveal(), p.health_notes.reveal()) == ("张三改", "13812340001", "糖尿病")


def test_saving_a_form_with_a_new_value_encrypts_it_and_updates_the_blind_index(grid):
    p = person(grid)
    p.save()
    form = PersonForm({"name": p.name, "phone": "13900001111", "id_number": "", "health_notes": ""}, instance=p)
    assert form.is_valid(), form.errors
    form.save()
    assert Person.objects.get(phone_bidx=crypto.blind_index("phone", "13900001111")).pk == p.pk


def test_the_admin_text_area_does_not_replace_the_sensitive_input():
    from django.contrib.admin.options import FORMFIELD_FOR_DBFIELD_DEFAULTS

    widget = FORMFIELD_FOR_DBFIELD_DEFAULTS[models.TextField]["widget"]
    field = Person._meta.get_field("health_notes").formfield(widget=widget)
    assert isinstance(field.widget, SensitiveInput)
