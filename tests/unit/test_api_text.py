"""The API's one text type: every free-text field and text query parameter refuses NUL and control characters.

The walk covers every route of every HTTP function in template.yaml, so a new field or route that forgets the
shared type fails here.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator
from typing import Any, get_args, get_origin

import pytest
from fastapi.routing import APIRoute
from pydantic import AfterValidator, BaseModel, SecretStr, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo

from isp_billing.backfill.models import DismissReviewRequest
from isp_billing.lifecycle.models import SuspendRequest
from isp_billing.payment_methods.models import PaymentMethodUpdate
from isp_billing.text import TextRule
from isp_billing_cli.template import functions

BAD_TEXT = {"NUL": "a\u0000b", "DC4": "FNB\u0014", "BEL": "FNB\u0007", "ESC": "x\u001b[2J", "C1": "a\u0085b"}


def _routes() -> Iterator[APIRoute]:
    for function in functions():
        app = getattr(function.load_module(), "app", None)
        if app is not None:
            yield from (route for route in app.routes if isinstance(route, APIRoute))


ROUTES = list(_routes())


def _models(annotation: Any) -> Iterator[type[BaseModel]]:
    """The pydantic models a body annotation can be (discriminated unions included)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for arg in get_args(annotation):
        yield from _models(arg)


def _body_models() -> dict[str, type[BaseModel]]:
    found: dict[str, type[BaseModel]] = {}
    for route in ROUTES:
        if route.body_field is not None:
            for model in _models(route.body_field.field_info.annotation):
                found[model.__name__] = model
    return found


BODY_MODELS = _body_models()


def _accepts_text(annotation: Any) -> bool:
    if annotation is str:
        return True
    return any(
        _accepts_text(arg) for arg in get_args(annotation) if get_origin(annotation) is not typing.Literal
    )


def _has_text_rule(annotation: Any, metadata: list[Any]) -> bool:
    def marked(items: list[Any]) -> bool:
        return any(isinstance(item, AfterValidator) and isinstance(item.func, TextRule) for item in items)

    if marked(metadata):
        return True
    if get_origin(annotation) is typing.Annotated:
        return marked(list(annotation.__metadata__))
    if get_origin(annotation) in (typing.Union, types.UnionType):
        return all(arg is type(None) or _has_text_rule(arg, []) for arg in get_args(annotation))
    return False


def _pattern_only(field: FieldInfo) -> bool:
    """Fields restricted to an ASCII pattern (branch code, last 4, token, cursor) cannot hold a control
    character either; the behavioural test below proves it for each."""
    schema = TypeAdapter(field.annotation).json_schema() if field.annotation is not None else {}
    options = [schema, *schema.get("anyOf", [])]
    return any("pattern" in option for option in options) or any(
        getattr(item, "pattern", None) for item in field.metadata
    )


def _text_fields() -> list[tuple[str, str, FieldInfo]]:
    return [
        (name, field_name, field)
        for name, model in BODY_MODELS.items()
        for field_name, field in model.model_fields.items()
        if _accepts_text(field.annotation)
    ]


TEXT_FIELDS = _text_fields()


def test_the_walk_finds_the_routes_and_the_fields_the_issue_names():
    # Given the walk over template.yaml's HTTP functions
    names = {(model, field) for model, field, _ in TEXT_FIELDS}
    # Then it sees the free-text fields the fuzzer broke (so an empty walk cannot pass the tests below)
    for expected in [
        ("EftCreate", "display_name"),
        ("CardCreate", "display_name"),
        ("PaymentMethodUpdate", "display_name"),
        ("DebitOrderCreate", "bank_name"),
        ("DebitOrderCreate", "account_holder"),
        ("ActivateRequest", "reason"),
        ("SuspendRequest", "reason"),
        ("ContractCancelRequest", "reason"),
        ("DismissReviewRequest", "note"),
        ("ResolveValidationErrorRequest", "note"),
    ]:
        assert expected in names


@pytest.mark.parametrize("model_name,field_name,field", TEXT_FIELDS, ids=lambda v: str(v)[:40])
def test_every_free_text_body_field_uses_the_shared_text_type(model_name, field_name, field):
    # Given a text field of a route's request body
    # Then it carries the shared rule, or is a pattern-restricted code, or a secret validated as digits
    assert (
        _has_text_rule(field.annotation, field.metadata)
        or _pattern_only(field)
        or field.annotation in (SecretStr, SecretStr | None)
    ), f"{model_name}.{field_name} must use a type from isp_billing.text"


def _discriminator(model: type[BaseModel]) -> dict[str, Any]:
    tag = model.model_fields.get("method_type")
    if tag is not None and get_origin(tag.annotation) is typing.Literal:
        return {"method_type": get_args(tag.annotation)[0]}
    return {}


@pytest.mark.parametrize("bad", list(BAD_TEXT), ids=str)
@pytest.mark.parametrize("model_name,field_name,field", TEXT_FIELDS, ids=lambda v: str(v)[:40])
def test_every_body_text_field_refuses_control_characters(model_name, field_name, field, bad):
    # Given a body whose text field holds a control character
    model = BODY_MODELS[model_name]
    body = {**_discriminator(model), field_name: BAD_TEXT[bad]}
    # When it is validated
    with pytest.raises(ValidationError) as refused:
        model.model_validate(body)
    # Then that field is refused (a 422 through the API's mapping), whatever else the body lacks
    assert (field_name,) in {tuple(error["loc"]) for error in refused.value.errors()}


def _query_params() -> list[tuple[str, str, Any]]:
    params = []
    for route in ROUTES:
        for param in route.dependant.query_params:
            if _accepts_text(param.field_info.annotation):
                params.append((f"{sorted(route.methods)[0]} {route.path}", param.name, param))
    return params


QUERY_PARAMS = _query_params()


def test_the_walk_finds_the_text_query_parameters():
    assert ("GET /api/admin/validation-errors", "source") in {
        (route, name) for route, name, _ in QUERY_PARAMS
    }
    assert any(name == "cursor" for _, name, _ in QUERY_PARAMS)


@pytest.mark.parametrize("route,name,param", QUERY_PARAMS, ids=lambda v: str(v)[:50])
def test_every_text_query_parameter_uses_the_shared_type_or_a_pattern(route, name, param):
    assert _has_text_rule(param.field_info.annotation, param.field_info.metadata) or _pattern_only(
        param.field_info
    ), f"{route} ?{name} must use a type from isp_billing.text"


@pytest.mark.parametrize("bad", list(BAD_TEXT), ids=str)
@pytest.mark.parametrize("route,name,param", QUERY_PARAMS, ids=lambda v: str(v)[:50])
def test_every_text_query_parameter_refuses_control_characters(route, name, param, bad):
    info = param.field_info
    adapter = TypeAdapter(
        typing.Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation
    )
    with pytest.raises(ValidationError):
        adapter.validate_python(BAD_TEXT[bad])


# --- the rule itself -----------------------------------------------------------------------------------


def test_text_is_trimmed_and_blank_text_is_refused():
    assert (
        SuspendRequest(reason="  Router replaced \n", suspension_type="technical").reason == "Router replaced"
    )
    with pytest.raises(ValidationError):
        SuspendRequest(reason=" \t ", suspension_type="technical")


def test_lengths_are_bounded_after_trimming():
    assert len(DismissReviewRequest(note="  " + "x" * 500 + "  ").note) == 500
    with pytest.raises(ValidationError):
        DismissReviewRequest(note="x" * 501)


def test_multi_line_notes_keep_line_feeds_and_tabs_and_normalise_crlf():
    note = DismissReviewRequest(note="Checked with the customer:\r\n\t- not theirs").note
    assert note == "Checked with the customer:\n\t- not theirs"


@pytest.mark.parametrize("text", ["a\rb", "a\u0000b", "a\u000bb", "a\u202eb"])
def test_multi_line_notes_still_refuse_other_controls(text):
    with pytest.raises(ValidationError) as refused:
        DismissReviewRequest(note=text)
    assert refused.value.errors()[0]["type"] == "text_control_character"


@pytest.mark.parametrize(
    "text", ["a\nb", "a\tb", "a\u2028b", "a\u202eb", "a\u2066b", "a\ufffeb", "a\u007fb", "a\u009fb"]
)
def test_single_line_text_refuses_line_breaks_tabs_and_invisible_formatting(text):
    with pytest.raises(ValidationError) as refused:
        SuspendRequest(reason=text, suspension_type="technical")
    assert refused.value.errors()[0]["type"] == "text_control_character"


def test_a_lone_surrogate_is_refused():
    with pytest.raises(ValidationError):
        SuspendRequest(reason="a\ud800", suspension_type="technical")


def test_the_error_names_the_code_point_never_the_value():
    with pytest.raises(ValidationError) as refused:
        SuspendRequest(reason="secret\u0000", suspension_type="technical")
    message = refused.value.errors()[0]["msg"]
    assert "U+0000" in message and "secret" not in message


def test_ordinary_unicode_text_is_kept():
    reason = "Klant het gevra - Ñandú & Zoë: 5 dae (R799,00) 🙂"
    assert SuspendRequest(reason=reason, suspension_type="technical").reason == reason


@pytest.mark.parametrize(
    "display_name",
    ["4111.1111.1111.1111", "4111/1111/1111/1111", "4111_1111_1111_1111", "4111  1111  1111  1111"],
)
def test_free_text_refuses_card_numbers_in_any_punctuation(display_name):
    with pytest.raises(ValidationError) as refused:
        PaymentMethodUpdate(display_name=display_name)
    assert refused.value.errors()[0]["type"] == "text_card_number"


@pytest.mark.parametrize("value", [True, "12", 12.0, "12.0"])
def test_card_expiry_is_a_strict_integer(value):
    with pytest.raises(ValidationError) as refused:
        PaymentMethodUpdate(card_expiry_month=value)
    assert refused.value.errors()[0]["loc"] == ("card_expiry_month",)


def test_a_real_integer_expiry_is_accepted():
    assert PaymentMethodUpdate(card_expiry_month=12).card_expiry_month == 12


def _fields_of(model: type[BaseModel]) -> Iterator[tuple[str, FieldInfo]]:
    yield from model.model_fields.items()


@pytest.mark.parametrize("model_name", sorted(BODY_MODELS))
def test_no_request_body_accepts_a_lax_integer_or_boolean(model_name):
    # Given every int/bool field of a request body: "12", 12.0 and true must not pass as 12 / true
    model = BODY_MODELS[model_name]
    for field_name, field in _fields_of(model):
        schema = TypeAdapter(field.annotation).json_schema()
        kinds = {schema.get("type")} | {option.get("type") for option in schema.get("anyOf", [])}
        body = _discriminator(model)
        if "integer" in kinds:
            for lax in (True, "12", 12.0):
                with pytest.raises(ValidationError) as refused:
                    model.model_validate({**body, field_name: lax})
                assert (field_name,) in {tuple(e["loc"]) for e in refused.value.errors()}, field_name
        if "boolean" in kinds:
            for lax in ("true", 1, "yes"):
                with pytest.raises(ValidationError) as refused:
                    model.model_validate({**body, field_name: lax})
                assert (field_name,) in {tuple(e["loc"]) for e in refused.value.errors()}, field_name
