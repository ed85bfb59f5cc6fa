def test_it_serves_the_health_page(client, db):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json()["database"]["ok"] is True
