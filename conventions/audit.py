"""The audit log: who viewed or changed personal data, from which address, when (AuditEntry).

Views record with one line each: `@audited("conversation", "view")` on a function view,
`@audited_api("customer", GET="view")` on a DRF view, or `record(request=..., ...)` where the
record is only known after the work (a booking). Entries name records by id, never by a
person's name, so erasing a customer never has to touch the log. Owners read it in Django
admin (conventions.admin); nobody can add, change or delete an entry there.
"""

from functools import wraps

from django.contrib import admin

from conventions.access import client_address
from conventions.models import AuditEntry

Action = AuditEntry.Action


def record(*, action, request=None, user=None, obj=None, object_type="", object_id="", description=""):
    """Append one entry. `request` gives the user, address and path; `obj` its type and id."""
    if request is not None and user is None:
        user = getattr(request, "user", None)
    if user is not None and not user.is_authenticated:
        user = None
    if obj is not None:
        object_type = object_type or obj._meta.model_name
        object_id = object_id or obj.pk
    return AuditEntry.objects.create(
        user=user, username=user.get_username() if user else "", action=action, object_type=object_type,
        object_id="" if object_id is None else str(object_id), description=description[:300],
        ip_address=client_address(request) if request is not None else None,
        path=request.path[:500] if request is not None else "",
    )


def audited(object_type, action, *, id_kwarg="pk", description=""):
    """Decorate a function view: record `action` on `object_type` (id from the URL) when it succeeds.

    A response under 400 is a success (a page, or a redirect after a change); refused and
    failed requests changed nothing and showed nothing, so they are not recorded. Put it
    inside @staff_required, so anonymous requests never reach it.
    """

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            response = view(request, *args, **kwargs)
            if response.status_code < 400:
                record(request=request, action=action, object_type=object_type, object_id=kwargs.get(id_kwarg, ""),
                       description=description)
            return response

        return wrapper

    return decorator


def audited_api(object_type, **actions):
    """Decorate a DRF view class: `@audited_api("appointment", GET="list", POST="create")`.

    Records the method's action when the response is under 400. The id is the URL's `pk`, or
    the `id` of the record in the response (a booking). A find-or-create that found an
    existing record (200, not 201) is recorded as a view.
    """

    def decorate(cls):
        cls.audit_spec = (object_type, actions)
        if getattr(cls.finalize_response, "audits", False):
            return cls  # a subclass of an audited view: its own spec, the parent's hook
        original = cls.finalize_response

        def finalize_response(self, request, response, *args, **kwargs):
            response = original(self, request, response, *args, **kwargs)
            kind, by_method = self.audit_spec
            action = by_method.get(request.method)
            if action and response.status_code < 400:
                if action == Action.CREATE and response.status_code == 200:
                    action = Action.VIEW
                data = getattr(response, "data", None)
                object_id = kwargs.get("pk") or (data.get("id") if isinstance(data, dict) else "") or ""
                record(request=request, action=action, object_type=kind, object_id=object_id)
            return response

        finalize_response.audits = True
        cls.finalize_response = finalize_response
        return cls

    return decorate


class AuditedAdmin(admin.ModelAdmin):
    """A ModelAdmin whose record pages, saves and deletions of personal data are recorded too."""

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method == "GET" and response.status_code == 200:
            record(request=request, action=Action.VIEW, object_type=self.model._meta.model_name,
                   object_id=object_id, description="Django admin")
        return response

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        record(request=request, action=Action.UPDATE if change else Action.CREATE, obj=obj,
               description="Django admin: " + ", ".join(form.changed_data)[:250] if change else "Django admin")

    def delete_model(self, request, obj):
        object_id = obj.pk
        super().delete_model(request, obj)
        record(request=request, action=Action.DELETE, object_type=self.model._meta.model_name, object_id=object_id,
               description="Django admin")

    def delete_queryset(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        super().delete_queryset(request, queryset)
        for object_id in ids:
            record(request=request, action=Action.DELETE, object_type=self.model._meta.model_name,
                   object_id=object_id, description="Django admin")
