"""A local Boulevard Client API: GraphQL over HTTP, on 127.0.0.1, for one test.

Every request is parsed and validated with graphql-core against tests/fakes/boulevard_schema.graphql
(written from the SDK's types), then executed against an in-memory business: a misspelled field,
an unknown argument or a wrongly typed variable fails the request as the real API would, and is
kept in `invalid` so a test can assert there were none.

The business: one location, staff with working windows, bookable items (services) with staff
variants, clients, carts and appointments. A start is bookable for a staff member when it is on
the 15-minute grid inside one of their windows, the service fits, and no live appointment overlaps.
Faults: `latency` (seconds before every answer), `fail(operation, status=503)` answers an error
status, `fail(operation, lose_answer=True)` does the work and then drops the connection.
"""

import base64
import itertools
import json
import threading
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from graphql import GraphQLError, build_schema, execute, parse, validate

from tests.fakes.http import LocalHTTPFake

SCHEMA = build_schema((Path(__file__).parent / "boulevard_schema.graphql").read_text())
GRID = timedelta(minutes=15)
API_KEY = "blvd-test-key"
BUSINESS_ID = "biz-123"
LOCATION_ID = "urn:blvd:Location:loc-1"


class FakeBoulevard(LocalHTTPFake):
    name = "fake-boulevard"

    def __init__(self, *, tz="America/New_York", late_cancel_hours=24):
        super().__init__()
        self.tz = ZoneInfo(tz)
        self.late_cancel_hours = late_cancel_hours
        self.lock = threading.RLock()
        self.requests = []  # (operation name, variables)
        self.invalid = []  # validation errors of documents that did not match the schema
        self.latency = 0.0
        self._faults = {}
        self._ids = itertools.count(1)
        self.location = {
            "id": LOCATION_ID, "name": "Glow Downtown", "businessName": "Glow Med Spa", "phoneNumber": "+12125550199",
            "tz": tz, "address": {"line1": "1 Main St", "line2": None, "city": "New York", "state": "NY", "zip": "10001"},
            "avatar": None, "coordinates": None, "externalId": None, "insertedAt": "2020-01-01T00:00:00Z",
            "isRemote": False, "updatedAt": "2020-01-01T00:00:00Z",
        }
        self.staff = {}  # id -> Staff dict
        self.windows = {}  # staff id -> [(start, end)] aware datetimes
        self.items = {}  # item id -> {"name", "description", "category", "price", "duration", "variants": {variant id: staff id}, "deposit"}
        self.clients = {}
        self.carts = {}
        self.appointments = {}

    # --- setting up the business -------------------------------------------------------------
    def add_staff(self, staff_id, first, last, *, bio=""):
        self.staff[staff_id] = {
            "id": staff_id, "firstName": first, "lastName": last, "displayName": f"{first} {last}", "bio": bio,
            "nickname": None, "avatar": None, "role": {"id": "role-1", "name": "Provider"},
            "insertedAt": "2020-01-01T00:00:00Z", "updatedAt": "2020-01-01T00:00:00Z",
        }
        self.windows.setdefault(staff_id, [])

    def add_item(self, item_id, name, *, duration, price, staff, category="Injectables", description="", deposit=False):
        """A bookable service; `staff` is {variant id: staff id}. `price` in cents."""
        self.items[item_id] = {"name": name, "description": description, "category": category, "price": price,
                               "duration": duration, "variants": dict(staff), "deposit": deposit}

    def open(self, staff_id, start, end):
        self.windows.setdefault(staff_id, []).append((start, end))

    def book_elsewhere(self, staff_id, item_id, start):
        """Someone else books this time (at the front desk, or online) right now."""
        with self.lock:
            return self._new_appointment(item_id=item_id, staff_id=staff_id, start=start, client_id="client-walk-in")

    def fail(self, operation, *, status=503, lose_answer=False, times=1):
        self._faults[operation] = {"status": status, "lose_answer": lose_answer, "times": times}

    def operations(self):
        return [name for name, _ in self.requests]

    @property
    def api_url(self):
        """What BOULEVARD_API_URL is set to (the business id and /client follow)."""
        return f"{self.address}/api/2020-01"

    # --- HTTP ----------------------------------------------------------------------------------
    def _handle(self, handler, method, body):
        if self.latency:
            time.sleep(self.latency)
        expected = "Basic " + base64.b64encode(f"{API_KEY}:".encode()).decode()
        if handler.path != f"/api/2020-01/{BUSINESS_ID}/client":
            return self._send(handler, 404, {"errors": [{"message": "Not found"}]})
        if handler.headers.get("Authorization") != expected:
            return self._send(handler, 401, {"errors": [{"message": "Unauthorized"}]})
        payload = json.loads(body or b"{}")
        name = payload.get("operationName")
        self.requests.append((name, payload.get("variables") or {}))
        fault = self._faults.get(name)
        lose_answer = False
        if fault and fault["times"] > 0:
            fault["times"] -= 1
            lose_answer = fault["lose_answer"]
            if not fault["lose_answer"]:
                # What a load balancer in front of an API says: a status and a page, not GraphQL.
                page = b"<html><body>Service Unavailable</body></html>"
                handler.send_response(fault["status"])
                handler.send_header("Content-Type", "text/html")
                handler.send_header("Content-Length", str(len(page)))
                handler.end_headers()
                handler.wfile.write(page)
                return None
        try:
            document = parse(payload.get("query", ""))
        except GraphQLError as error:
            self.invalid.append(error.message)
            return self._send(handler, 200, {"errors": [error.formatted]})
        errors = validate(SCHEMA, document)
        if errors:
            self.invalid.extend(error.message for error in errors)
            return self._send(handler, 200, {"errors": [error.formatted for error in errors]})
        with self.lock:
            result = execute(SCHEMA, document, root_value=self, variable_values=payload.get("variables"),
                             operation_name=name)
        answer = {"data": result.data}
        if result.errors:
            answer["errors"] = [error.formatted for error in result.errors]
            if any("Variable" in error.message for error in result.errors):
                self.invalid.extend(error.message for error in result.errors)
        if lose_answer:
            handler.close_connection = True
            handler.connection.close()  # the work is done; the answer never arrives
            return None
        return self._send(handler, 200, answer)

    def _send(self, handler, status, answer):
        data = json.dumps(answer).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    # --- the business's rules --------------------------------------------------------------------
    def _id(self, kind):
        return f"urn:blvd:{kind}:{next(self._ids)}"

    def _busy(self, staff_id, start, end, ignore=None):
        return any(a["staff_id"] == staff_id and not a["cancelled"] and a["id"] != ignore
                   and a["start"] < end and start < a["start"] + timedelta(minutes=a["duration"])
                   for a in self.appointments.values())

    def _free_starts(self, staff_id, duration, day, ignore=None):
        starts = []
        length = timedelta(minutes=duration)
        for window_start, window_end in self.windows.get(staff_id, []):
            moment = window_start
            while moment + length <= window_end:
                if moment.astimezone(self.tz).date() == day and not self._busy(staff_id, moment, moment + length, ignore):
                    starts.append(moment)
                moment += GRID
        return sorted(set(starts))

    def _cart_starts(self, cart, day):
        """{start: [staff ids free then]} for the cart's bookable item on `day`."""
        item = self.items[cart["item_id"]]
        staff_ids = [cart["staff_id"]] if cart["staff_id"] else list(item["variants"].values())
        found = {}
        for staff_id in staff_ids:
            for start in self._free_starts(staff_id, item["duration"], day):
                found.setdefault(start, []).append(staff_id)
        return found

    def _new_appointment(self, *, item_id, staff_id, start, client_id):
        appointment_id = self._id("Appointment")
        self.appointments[appointment_id] = {
            "id": appointment_id, "item_id": item_id, "staff_id": staff_id, "start": start,
            "duration": self.items[item_id]["duration"], "client_id": client_id, "cancelled": False,
            "cancellation": None, "notes": None, "created": datetime.now(timezone.utc),
        }
        return appointment_id

    def _cart_view(self, cart):
        item = self.items.get(cart.get("item_id")) or {}
        reserved = cart.get("reserved")
        deposit = bool(reserved and item.get("deposit"))
        errors = []
        if deposit:
            errors.append({"code": "CART_MISSING_ITEM_PAYMENT_METHOD", "description": "A card is required",
                           "message": "Add a payment method"})
        return {
            "id": cart["id"], "expiresAt": cart.get("expiresAt"), "completedAt": cart.get("completedAt"),
            "errors": errors, "clientInformation": cart.get("clientInformation"),
            "summary": {"deposit": "PARTIAL_DEPOSIT" if deposit else "NO_DEPOSIT",
                        "depositAmount": 5000 if deposit else 0, "discountAmount": 0, "gratuityAmount": 0,
                        "paymentMethodRequired": deposit, "roundingAmount": 0, "subtotal": item.get("price", 0),
                        "taxAmount": 0, "total": item.get("price", 0)},
            "availableCategories": lambda info: self._categories(),
            "availableItem": lambda info, id: self._available_item(id),
            "insertedAt": "2026-01-01T00:00:00Z", "updatedAt": "2026-01-01T00:00:00Z",
        }

    def _categories(self):
        by_category = {}
        for item_id, item in self.items.items():
            by_category.setdefault(item["category"], []).append(self._available_item(item_id))
        return [{"id": f"cat-{name}", "name": name, "description": None, "disabled": False,
                 "disabledDescription": None, "availableItems": items} for name, items in by_category.items()]

    def _available_item(self, item_id):
        item = self.items.get(item_id)
        if item is None:
            return None
        variants = [{"id": variant_id, "duration": item["duration"], "price": item["price"],
                     "staff": self.staff[staff_id]} for variant_id, staff_id in item["variants"].items()]
        return {
            "__typename": "CartAvailableBookableItem", "id": item_id, "name": item["name"],
            "description": item["description"], "disabled": False, "disabledDescription": None,
            "listPrice": item["price"], "listDuration": item["duration"],
            "listPriceRange": {"min": item["price"], "max": item["price"], "variable": False},
            "listDurationRange": {"min": item["duration"], "max": item["duration"], "variable": False},
            "staffVariants": variants, "locationVariants": [{"location": self.location}],
            "variableDuration": False, "variablePrice": False,
        }

    def _appointment_view(self, appointment):
        end = appointment["start"] + timedelta(minutes=appointment["duration"])
        return {
            "id": appointment["id"], "startAt": appointment["start"].isoformat(), "endAt": end.isoformat(),
            "cancelled": appointment["cancelled"], "state": "CANCELLED" if appointment["cancelled"] else "BOOKED",
            "cancellation": appointment["cancellation"], "notes": appointment["notes"],
            "duration": appointment["duration"], "clientId": appointment["client_id"], "locationId": LOCATION_ID,
            "createdAt": appointment["created"].isoformat(),
        }

    @staticmethod
    def _refuse(message, code):
        raise GraphQLError(message, extensions={"code": code})

    # --- root fields (graphql-core calls these with the field's arguments) ----------------------------
    def locations(self, info, **kwargs):
        return {"edges": [{"cursor": "1", "node": self.location}],
                "pageInfo": {"hasNextPage": False, "hasPreviousPage": False, "startCursor": None, "endCursor": None}}

    def cart(self, info, id):
        cart = self.carts.get(id)
        return self._cart_view(cart) if cart else None

    def createCart(self, info, input):
        cart_id = self._id("Cart")
        self.carts[cart_id] = {"id": cart_id, "locationId": input.get("locationId"),
                               "clientInformation": input.get("clientInformation"), "item_id": None,
                               "staff_id": None, "reserved": None}
        return {"cart": self._cart_view(self.carts[cart_id])}

    def addCartSelectedBookableItem(self, info, input):
        cart = self._live_cart(input["id"])
        item = self.items.get(input["itemId"])
        if item is None:
            self._refuse("Item not found", "NOT_FOUND")
        variant = input.get("itemStaffVariantId")
        if variant is not None and variant not in item["variants"]:
            self._refuse("Staff variant not found", "NOT_FOUND")
        cart.update(item_id=input["itemId"], staff_id=item["variants"].get(variant), reserved=None)
        return {"cart": self._cart_view(cart)}

    def updateCart(self, info, input):
        cart = self._live_cart(input["id"])
        if "clientInformation" in input:
            cart["clientInformation"] = input["clientInformation"]
        return {"cart": self._cart_view(cart)}

    def cartBookableDates(self, info, id, searchRangeLower=None, searchRangeUpper=None, tz=None, limit=None, **kw):
        cart = self._item_cart(id)
        lower = date.fromisoformat(searchRangeLower)
        upper = min(date.fromisoformat(searchRangeUpper), lower + timedelta(days=6))  # the first week only
        found, day = [], lower
        while day <= upper:
            if self._cart_starts(cart, day):
                found.append({"date": day.isoformat()})
            day += timedelta(days=1)
        return found[:limit] if limit else found

    def cartBookableTimes(self, info, id, searchDate, tz=None, **kw):
        cart = self._item_cart(id)
        starts = self._cart_starts(cart, date.fromisoformat(searchDate))
        return [{"id": f"{cart['id']}|{start.isoformat()}", "score": 1.0,
                 "startTime": start.astimezone(ZoneInfo(tz) if tz else self.tz).isoformat()} for start in sorted(starts)]

    def reserveCartBookableItems(self, info, input):
        cart = self._item_cart(input["id"])
        cart_id, _, start_text = input["bookableTimeId"].partition("|")
        if cart_id != cart["id"]:
            self._refuse("Bookable time not found", "NOT_FOUND")
        start = datetime.fromisoformat(start_text)
        free = self._cart_starts(cart, start.astimezone(self.tz).date()).get(start)
        if not free:
            self._refuse("The selected time is no longer available", "BOOKABLE_TIME_UNAVAILABLE")
        cart["reserved"] = (start, cart["staff_id"] or free[0])
        cart["expiresAt"] = (datetime.now(timezone.utc) + timedelta(minutes=10)).isoformat()
        return {"cart": self._cart_view(cart)}

    def checkoutCart(self, info, input):
        cart = self.carts.get(input["id"])
        if cart is None:
            self._refuse("Cart not found", "NOT_FOUND")
        if cart.get("completedAt"):
            # A cart is checked out once; asking again answers with what it booked.
            return {"cart": self._cart_view(cart), "appointments": cart["booked"]}
        if not cart.get("reserved"):
            self._refuse("Cart has errors: CART_MISSING_ITEM_TIME", "CART_MISSING_ITEM_TIME")
        if self.items[cart["item_id"]]["deposit"]:
            self._refuse("Cart has errors: CART_MISSING_ITEM_PAYMENT_METHOD", "CART_MISSING_ITEM_PAYMENT_METHOD")
        information = cart.get("clientInformation")
        if not information:
            self._refuse("Cart has errors: CART_MISSING_CLIENT_INFORMATION", "CART_MISSING_CLIENT_INFORMATION")
        start, staff_id = cart["reserved"]
        duration = self.items[cart["item_id"]]["duration"]
        if self._busy(staff_id, start, start + timedelta(minutes=duration)):
            self._refuse("The selected time is no longer available", "BOOKABLE_TIME_UNAVAILABLE")
        client_id = self._client_for(information)
        appointment_id = self._new_appointment(item_id=cart["item_id"], staff_id=staff_id, start=start,
                                               client_id=client_id)
        cart["completedAt"] = datetime.now(timezone.utc).isoformat()
        cart["booked"] = [{"appointmentId": appointment_id, "clientId": client_id, "forCartOwner": True}]
        return {"cart": self._cart_view(cart), "appointments": cart["booked"]}

    def appointment(self, info, id):
        appointment = self.appointments.get(id)
        return self._appointment_view(appointment) if appointment else None

    def appointmentRescheduleAvailableTimes(self, info, input):
        appointment = self._live_appointment(input["appointmentId"])
        day = date.fromisoformat(input["date"])
        starts = self._free_starts(appointment["staff_id"], appointment["duration"], day, ignore=appointment["id"])
        return {"availableTimes": [{"bookableTimeId": f"{appointment['id']}|{start.isoformat()}",
                                    "startTime": start.isoformat()} for start in starts]}

    def appointmentReschedule(self, info, input):
        appointment = self._live_appointment(input["appointmentId"])
        appointment_id, _, start_text = input["bookableTimeId"].partition("|")
        if appointment_id != appointment["id"]:
            self._refuse("Bookable time not found", "NOT_FOUND")
        start = datetime.fromisoformat(start_text)
        end = start + timedelta(minutes=appointment["duration"])
        if self._busy(appointment["staff_id"], start, end, ignore=appointment["id"]):
            self._refuse("The selected time is no longer available", "BOOKABLE_TIME_UNAVAILABLE")
        appointment["start"] = start
        return {"appointment": self._appointment_view(appointment)}

    def cancelAppointment(self, info, input):
        appointment = self.appointments.get(input["id"])
        if appointment is None:
            self._refuse("Appointment not found", "NOT_FOUND")
        if not appointment["cancelled"]:
            now = datetime.now(timezone.utc)
            late = appointment["start"] - now < timedelta(hours=self.late_cancel_hours)
            appointment["cancelled"] = True
            appointment["cancellation"] = {"cancelledAt": now.isoformat(), "notes": input.get("notes"),
                                           "reason": "CLIENT_LATE_CANCEL" if late else "CLIENT_CANCEL"}
        return {"appointment": self._appointment_view(appointment)}

    # --- helpers ----------------------------------------------------------------------------------
    def _live_cart(self, cart_id):
        cart = self.carts.get(cart_id)
        if cart is None:
            self._refuse("Cart not found", "NOT_FOUND")
        if cart.get("completedAt"):
            self._refuse("Cart is already completed", "CART_COMPLETED")
        return cart

    def _item_cart(self, cart_id):
        cart = self._live_cart(cart_id)
        if not cart.get("item_id"):
            self._refuse("Cart has errors: CART_MISSING_ITEMS", "CART_MISSING_ITEMS")
        return cart

    def _live_appointment(self, appointment_id):
        appointment = self.appointments.get(appointment_id)
        if appointment is None or appointment["cancelled"]:
            self._refuse("Appointment not found", "NOT_FOUND")
        return appointment

    def _client_for(self, information):
        for client_id, client in self.clients.items():
            if (information.get("email") and client.get("email") == information["email"]) or (
                    information.get("phoneNumber") and client.get("phoneNumber") == information["phoneNumber"]):
                return client_id
        client_id = self._id("Client")
        self.clients[client_id] = dict(information)
        return client_id
