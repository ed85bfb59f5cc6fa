"""A start-up check: no configured OpenAI model may have an announced shutdown date.

The installed SDK is the authority: its generated types carry, next to each model field,
"Deprecated values: - "name", …: Announced shutdown date: YYYY-MM-DD". Those docstrings are not
kept at run time (pydantic drops them), so they are read from the SDK's source. A newer SDK that
announces more shutdowns therefore warns without any change here.
"""

import ast
import functools
import importlib
import inspect
import re

from django.conf import settings
from django.core.checks import Warning, register

# setting -> (SDK module, class holding the field or None for a module-level alias, field or alias name)
MODEL_SETTINGS = {
    "OPENAI_REALTIME_MODEL": ("openai.types.realtime.realtime_session_create_request",
                              "RealtimeSessionCreateRequest", "model"),
    "VOICE_TRANSCRIPTION_MODEL": ("openai.types.realtime.audio_transcription", "AudioTranscription", "model"),
    "OPENAI_TEXT_MODEL": ("openai.types.shared.chat_model", None, "ChatModel"),
    "OPENAI_SCORING_MODEL": ("openai.types.shared.chat_model", None, "ChatModel"),
}
_BULLET = re.compile(r"^((?:\"[^\"]+\",?\s*)+):\s*(.*)$")
_DATE = re.compile(r"Announced shutdown date:\s*(\d{4}-\d{2}-\d{2})")


def _field_docstring(module_name, class_name, field):
    tree = ast.parse(inspect.getsource(importlib.import_module(module_name)))
    body = tree.body
    if class_name is not None:
        body = next(node.body for node in tree.body if isinstance(node, ast.ClassDef) and node.name == class_name)
    for statement, following in zip(body, body[1:]):
        target = getattr(statement, "target", None) or (getattr(statement, "targets", None) or [None])[0]
        if (isinstance(target, ast.Name) and target.id == field and isinstance(following, ast.Expr)
                and isinstance(following.value, ast.Constant) and isinstance(following.value.value, str)):
            return following.value.value
    return ""


@functools.cache
def deprecated_models(module_name, class_name, field):
    """{model name: what the SDK says of it} from the field's "Deprecated values" list."""
    doc = _field_docstring(module_name, class_name, field)
    if "Deprecated values:" not in doc:
        return {}
    found = {}
    for bullet in doc.split("Deprecated values:", 1)[1].split("\n- "):
        match = _BULLET.match(" ".join(bullet.replace("\n-", "\n").split()).lstrip("- "))
        if match:
            for name in re.findall(r'"([^"]+)"', match.group(1)):
                found[name] = match.group(2)
    return found


def shutdown_notice(setting, model):
    """(date or None, the SDK's words) when the SDK lists `model` as deprecated for `setting`; else None."""
    try:
        notes = deprecated_models(*MODEL_SETTINGS[setting])
    except (ImportError, OSError, StopIteration, SyntaxError, TypeError):
        return None  # an SDK laid out differently: nothing it announces can be read
    note = notes.get(model)
    if note is None:
        return None
    date = _DATE.search(note)
    return (date.group(1) if date else None), note.split(" See ")[0]


@register("openai")
def check_model_shutdowns(app_configs=None, **kwargs):
    import openai

    warnings = []
    for setting in MODEL_SETTINGS:
        model = getattr(settings, setting, "")
        notice = shutdown_notice(setting, model)
        if notice is None:
            continue
        date, words = notice
        what = f"has an announced shutdown date, {date}" if date else f"is deprecated ({words})"
        warnings.append(Warning(
            f"{setting}={model} {what}, says the installed openai SDK {openai.__version__}.",
            hint=f"Set {setting} to a current model (see .env.example for the defaults).",
            obj=setting, id="receptionist.W001" if date else "receptionist.W002"))
    return warnings
