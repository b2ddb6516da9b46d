"""The OpenAPI document is complete and the docs page needs nothing from outside."""
import re

import pytest

from communitygrid.restapi.models import IdempotencyRecord
from communitygrid.restapi.services import idempotency_purge

pytestmark = pytest.mark.django_db


@pytest.fixture
def document(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    return response.json()


def _operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def test_every_operation_documents_every_4xx_with_the_error_body(document):
    assert set(document["components"]["schemas"]["ErrorOut"]["properties"]) == {"detail", "field", "errors"}
    operations = list(_operations(document))
    assert len(operations) >= 20
    for path, method, operation in operations:
        codes = set(operation["responses"])
        assert {"401", "403", "422", "429"} <= codes, (path, method)
        if "requestBody" in operation:
            assert {"413", "415"} <= codes, (path, method)
        for code, response in operation["responses"].items():
            if code.startswith("4"):
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorOut"}, (path, method, code)


def test_every_post_documents_the_idempotency_key(document):
    posts = [(path, op) for path, method, op in _operations(document) if method == "post"]
    assert posts
    for path, operation in posts:
        names = [p["name"] for p in operation.get("parameters", [])]
        assert "Idempotency-Key" in names, path
        assert {"400", "409", "422"} <= set(operation["responses"]), path


def test_every_list_is_a_page(document):
    for path, method, operation in _operations(document):
        schema = operation["responses"].get("200", {}).get("content", {}).get("application/json", {}).get("schema", {})
        if schema.get("type") == "array":
            pytest.fail(f"{method.upper()} {path} answers a bare list, not a page")
        ref = schema.get("$ref", "")
        if ref.startswith("#/components/schemas/Paged"):
            names = [p["name"] for p in operation.get("parameters", [])]
            assert {"limit", "offset"} <= set(names), path
            properties = document["components"]["schemas"][ref.rsplit("/", 1)[1]]["properties"]
            assert set(properties) == {"items", "count", "limit", "offset"}


def test_the_docs_page_loads_swagger_from_our_own_origin(admin_client):
    response = admin_client.get("/api/docs")
    assert response.status_code == 200
    html = response.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any("swagger-ui-bundle.js" in s for s in sources)
    for source in sources:
        assert source.startswith("/"), f"docs page loads {source} from outside"
    for source in sources:
        assert admin_client.get(source).status_code == 200, source


def test_old_idempotency_records_are_purged(db):
    from django.utils import timezone

    old = IdempotencyRecord.objects.create(principal="user:1", key="old", fingerprint="f", method="POST", path="/",
                                           created_at=timezone.now() - timezone.timedelta(hours=25))
    IdempotencyRecord.objects.create(principal="user:1", key="new", fingerprint="f", method="POST", path="/")
    assert idempotency_purge() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]
    assert not IdempotencyRecord.objects.filter(pk=old.pk).exists()
