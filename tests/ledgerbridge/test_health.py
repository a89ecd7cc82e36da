import pytest


@pytest.mark.django_db
def test_health_reports_database_and_queue(client):
    answer = client.get("/health")
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "ok" and body["database"] == "ok"
    assert body["queue"].startswith("ok")


@pytest.mark.django_db
def test_every_response_carries_a_request_id(client):
    answer = client.get("/login/", HTTP_X_REQUEST_ID="abc123")
    assert answer["X-Request-ID"] == "abc123"
    assert len(client.get("/login/")["X-Request-ID"]) == 32
