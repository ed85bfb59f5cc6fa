"""Every API error has one shape, whoever raised it; lists page with ?page and ?page_size."""

from django.test import RequestFactory
from rest_framework import status
from rest_framework.exceptions import NotFound, ValidationError

from conventions.api import Pagination, error_response, exception_handler


def test_a_raised_error_has_a_code_a_message_and_no_details():
    response = exception_handler(NotFound("No such appointment."), {})
    assert response.status_code == 404
    assert response.data == {"error": {"code": "not_found", "message": "No such appointment.", "details": {}}}


def test_invalid_input_names_each_field():
    response = exception_handler(ValidationError({"date": ["Enter a valid date."]}), {})
    assert response.status_code == 400
    assert response.data["error"]["code"] == "invalid"
    assert response.data["error"]["details"] == {"date": ["Enter a valid date."]}


def test_a_view_answers_its_own_error_in_the_same_shape():
    response = error_response(code="slot_taken", message="That time is taken.", status_code=status.HTTP_409_CONFLICT,
                              details={"alternatives": []})
    assert response.status_code == 409
    assert response.data == {"error": {"code": "slot_taken", "message": "That time is taken.",
                                       "details": {"alternatives": []}}}


def test_an_error_that_is_not_the_apis_is_left_to_django():
    assert exception_handler(ZeroDivisionError(), {}) is None


def test_a_page_size_is_capped():
    request = RequestFactory().get("/api/x", {"page_size": "100000"})
    from rest_framework.request import Request

    assert Pagination().get_page_size(Request(request)) == Pagination.max_page_size
