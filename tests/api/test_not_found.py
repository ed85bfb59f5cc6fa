"""An address under /api/ that nothing serves answers in the API's error shape, not with an HTML page."""

import pytest


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/customers/not-a-number", "/api/admin/calls/null,null", "/api/nothing-here"])
def test_an_unknown_api_address_is_a_404_in_the_error_shape(staff_client, url):
    response = staff_client.get(url)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.django_db
def test_other_unknown_addresses_keep_the_html_page(staff_client):
    response = staff_client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
