"""Every request body the bot sends, checked against Discord's own OpenAPI spec.

SimCord logs each request the real discord.py client makes (`env.http_requests`). This module maps
each one to the spec's operation, validates its JSON body with jsonschema, and adds the rules the
spec does not encode (the 6,000-character embed total, button and select cross-field rules,
non-empty messages, command naming). tests/conftest.py runs it after every SimCord test.

The spec is read from ../shared/discord-api-spec/openapi.json (beside the project, never copied
into it), or from the file named by GIFTBOT_DISCORD_SPEC. Without it the checks are skipped.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry
from referencing.jsonschema import DRAFT202012

SPEC_ENV = "GIFTBOT_DISCORD_SPEC"
DEFAULT_SPEC = Path(__file__).resolve().parents[1].parent / "shared" / "discord-api-spec" / "openapi.json"
SPEC_URI = "urn:discord-api-spec"

UNLISTED: tuple[tuple[str, str, str], ...] = (
    ("GET", "/applications/*/skus", "a real route this spec version lacks (see the spec's README)"),
)
"""(method, path glob, why) of routes with no operation in the spec that are still real. Keep it
short: every other unknown route fails the test."""

METHODS = ("get", "put", "post", "patch", "delete")
MAX_EMBED_TOTAL = 6_000
MAX_ACTION_ROWS = 5
MAX_ROW_BUTTONS = 5
MAX_CHOICE_VALUE = 100
MAX_COMMAND_TOTAL = 4_000
COMPONENTS_V2 = 1 << 15
LINK, PREMIUM = 5, 6
BUTTON, STRING_SELECT = 2, 3
SELECTS = {3, 5, 6, 7, 8}
MESSAGE_CALLBACKS = {4: "create", 7: "update"}
AUTOCOMPLETE_CALLBACK = 8
COMMAND_NAME = re.compile(r"^[-_'\w]{1,32}$")


class SpecMissing(Exception):
    """The spec file is not there: tests that need it skip with this reason."""


def spec_path() -> Path:
    override = os.environ.get(SPEC_ENV)
    return Path(override) if override else DEFAULT_SPEC


@dataclass(frozen=True)
class Problem:
    method: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.method} {self.path}: {self.message}"


@dataclass
class Tally:
    """Payloads checked across the session, for the terminal summary."""

    validated: int = 0
    invalid: int = 0

    def summary(self) -> str:
        return f"discord payloads validated: {self.validated:,} ({self.invalid:,} invalid)"


TALLY = Tally()


# -- the spec, loaded once ---------------------------------------------------------------------


def _snowflake(schema: dict[str, Any], instance: Any) -> Any:
    """discord.py sends snowflakes as ints; the spec types them as strings of digits."""
    if schema.get("format") == "snowflake" and isinstance(instance, int) and not isinstance(instance, bool):
        return str(instance)
    return instance


_BASE = jsonschema.Draft202012Validator.VALIDATORS


def _type(validator: Any, types: Any, instance: Any, schema: dict[str, Any]) -> Iterator[ValidationError]:
    return _BASE["type"](validator, types, _snowflake(schema, instance), schema)


def _pattern(
    validator: Any, pattern: Any, instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    return _BASE["pattern"](validator, pattern, _snowflake(schema, instance), schema)


def _pointer(document: Any, ref: str) -> Any:
    """The schema a $ref names; every $ref in the spec points into the spec itself."""
    node = document
    for part in ref.split("#", 1)[1].strip("/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _discriminator(document: Any, branches: list[Any]) -> dict[Any, int] | None:
    """{type value: branch index}, or None when the branches are not all objects with a `type` enum."""
    kinds: dict[Any, int] = {}
    for index, branch in enumerate(branches):
        if branch == {"type": "null"}:
            continue
        resolved = _pointer(document, branch["$ref"]) if "$ref" in branch else branch
        enum = resolved.get("properties", {}).get("type", {}).get("enum")
        if not enum or any(value in kinds for value in enum):
            return None
        kinds.update(dict.fromkeys(enum, index))
    return kinds


def _validator_class(document: Any) -> Any:
    """Draft 2020-12, plus: snowflakes may be ints, and a union whose branches are told apart by a
    `type` enum (components, options, callbacks) checks just the branch the instance's `type`
    picks, which gives exact error messages and is much faster."""
    discriminators: dict[int, dict[Any, int] | None] = {}

    def union(keyword: str) -> Callable[..., Iterator[ValidationError]]:
        def check(validator: Any, branches: list[Any], instance: Any, schema: dict[str, Any]) -> Any:
            if not isinstance(instance, dict):
                yield from _BASE[keyword](validator, branches, instance, schema)
                return
            if id(branches) not in discriminators:
                discriminators[id(branches)] = _discriminator(document, branches)
            kinds = discriminators[id(branches)]
            if kinds is None:
                yield from _BASE[keyword](validator, branches, instance, schema)
                return
            kind = instance.get("type")
            picked = kinds.get(kind) if isinstance(kind, int | str) else None
            if picked is None:
                yield ValidationError(f"type {instance.get('type')!r} is not one of {sorted(kinds, key=str)}")
                return
            yield from validator.descend(instance, branches[picked], schema_path=picked)

        return check

    return jsonschema.validators.extend(
        jsonschema.Draft202012Validator,
        {"type": _type, "pattern": _pattern, "anyOf": union("anyOf"), "oneOf": union("oneOf")},
    )


def _rebased(schema: Any) -> Any:
    """An operation's schema, its local $refs made absolute so they resolve in the whole spec."""
    if isinstance(schema, dict):
        return {
            key: (SPEC_URI + value if key == "$ref" and value.startswith("#") else _rebased(value))
            for key, value in schema.items()
        }
    if isinstance(schema, list):
        return [_rebased(item) for item in schema]
    return schema


@dataclass
class Operation:
    method: str
    template: str
    operation_id: str
    body_schema: Any | None
    body_required: bool
    _validator: Any = None

    def validator(self, cls: Any, registry: Registry) -> Any:
        if self._validator is None:
            self._validator = cls(_rebased(self.body_schema), registry=registry)
        return self._validator


@dataclass
class Spec:
    validator_class: Any
    registry: Registry
    routes: dict[str, list[tuple[list[str], Operation]]]
    _verdicts: dict[tuple[str, str], list[str]] = field(default_factory=dict)

    def operation(self, method: str, path: str) -> Operation | None:
        """The spec's operation for a concrete path, preferring the most literal template."""
        segments = path.split("?", 1)[0].strip("/").split("/")
        best: tuple[int, Operation] | None = None
        for template, op in self.routes.get(method.upper(), ()):
            if len(template) != len(segments):
                continue
            literals = 0
            for part, segment in zip(template, segments, strict=True):
                if part.startswith("{") and part.endswith("}"):
                    if not segment:
                        break
                elif part == segment:
                    literals += 1
                else:
                    break
            else:
                if best is None or literals > best[0]:
                    best = (literals, op)
        return None if best is None else best[1]

    def schema_errors(self, op: Operation, body: Any) -> list[str]:
        """The body's schema errors; identical bodies (command sync in every test) are checked once."""
        key = (op.operation_id, json.dumps(body, sort_keys=True, ensure_ascii=False))
        if key not in self._verdicts:
            error = best_match(op.validator(self.validator_class, self.registry).iter_errors(body))
            self._verdicts[key] = [] if error is None else [_describe(error)]
        return self._verdicts[key]


def _describe(error: ValidationError) -> str:
    """The error at its JSON path, with a long instance cut down to a readable size."""
    message = error.message
    if error.validator in ("maxLength", "minLength") and isinstance(error.instance, str):
        limit = "at most" if error.validator == "maxLength" else "at least"
        message = f"{len(error.instance):,} characters; Discord allows {limit} {error.validator_value:,}"
    else:
        shown = repr(error.instance)
        if len(shown) > 120:
            message = message.replace(shown, shown[:100] + "…")
        message = message if len(message) <= 400 else message[:400] + "…"
    return f"{error.json_path}: {message}"


@cache
def load_spec(path: Path) -> Spec:
    if not path.is_file():
        raise SpecMissing(
            f"Discord's OpenAPI spec is not at {path}; set {SPEC_ENV} or put it in "
            "../shared/discord-api-spec/ to validate payloads"
        )
    document = json.loads(path.read_text("utf-8"))
    registry = Registry().with_resource(SPEC_URI, DRAFT202012.create_resource(document)).crawl()
    routes: dict[str, list[tuple[list[str], Operation]]] = {}
    for template, item in document["paths"].items():
        for method in METHODS:
            raw = item.get(method)
            if raw is None:
                continue
            body = raw.get("requestBody") or {}
            content = body.get("content", {})
            media = content.get("application/json") or content.get("multipart/form-data") or {}
            op = Operation(
                method.upper(),
                template,
                raw.get("operationId", f"{method} {template}"),
                media.get("schema"),
                bool(body.get("required")),
            )
            routes.setdefault(method.upper(), []).append((template.strip("/").split("/"), op))
    return Spec(_validator_class(document), registry, routes)


def spec() -> Spec:
    return load_spec(spec_path())


# -- rules the spec does not encode --------------------------------------------------------------


def _text_length(embed: dict[str, Any]) -> int:
    """What Discord counts toward the 6,000 characters of a message's embeds."""
    total = len(embed.get("title") or "") + len(embed.get("description") or "")
    total += len((embed.get("footer") or {}).get("text") or "")
    total += len((embed.get("author") or {}).get("name") or "")
    for item in embed.get("fields") or []:
        total += len(item.get("name") or "") + len(item.get("value") or "")
    return total


def embed_problems(embeds: list[dict[str, Any]]) -> Iterator[str]:
    total = sum(_text_length(embed) for embed in embeds)
    if total > MAX_EMBED_TOTAL:
        yield f"embeds hold {total:,} characters; Discord allows {MAX_EMBED_TOTAL:,} in one message"
    for index, embed in enumerate(embeds):
        for number, item in enumerate(embed.get("fields") or []):
            for key in ("name", "value"):
                if not str(item.get(key) or "").strip():
                    yield f"$.embeds[{index}].fields[{number}].{key} is empty (Discord refuses it)"


def button_problems(button: dict[str, Any], where: str) -> Iterator[str]:
    style = button.get("style")
    has = {key for key in ("custom_id", "url", "sku_id", "label", "emoji") if button.get(key)}
    if style == PREMIUM:
        extra = has & {"custom_id", "url", "label", "emoji"}
        if "sku_id" not in has or extra:
            yield f"{where}: a premium button needs sku_id and no {', '.join(sorted(extra)) or 'other id'}"
        return
    if not has & {"label", "emoji"}:
        yield f"{where}: a button needs a label or an emoji"
    if "sku_id" in has:
        yield f"{where}: only a premium button (style 6) has an sku_id"
    if style == LINK:
        if "url" not in has or "custom_id" in has:
            yield f"{where}: a link button needs a url and no custom_id"
    elif "custom_id" not in has or "url" in has:
        yield f"{where}: a button of style {style} needs a custom_id and no url"


def select_problems(menu: dict[str, Any], where: str) -> Iterator[str]:
    low, high = menu.get("min_values", 1), menu.get("max_values", 1)
    low = 1 if low is None else low
    high = 1 if high is None else high
    if low > high:
        yield f"{where}: min_values {low} > max_values {high}"
    if menu.get("type") == STRING_SELECT:
        options = menu.get("options") or []
        values = [option.get("value") for option in options]
        if high > len(options):
            yield f"{where}: max_values {high} > {len(options)} options"
        if len(set(values)) != len(values):
            yield f"{where}: option values repeat"
        if sum(1 for option in options if option.get("default")) > high:
            yield f"{where}: more default options than max_values"


def component_problems(message: dict[str, Any]) -> Iterator[str]:
    rows = message.get("components") or []
    if int(message.get("flags") or 0) & COMPONENTS_V2:
        return  # layout components: the spec's own shapes apply
    if len(rows) > MAX_ACTION_ROWS:
        yield f"$.components: {len(rows)} rows; Discord allows {MAX_ACTION_ROWS}"
    custom_ids: list[str] = []
    for r, row in enumerate(rows):
        if row.get("type") != 1:
            yield f"$.components[{r}]: type {row.get('type')} needs the IS_COMPONENTS_V2 flag"
            continue
        children = row.get("components") or []
        if any(child.get("type") in SELECTS for child in children) and len(children) > 1:
            yield f"$.components[{r}]: a select menu fills its row alone"
        if len(children) > MAX_ROW_BUTTONS:
            yield f"$.components[{r}]: {len(children)} items; a row holds {MAX_ROW_BUTTONS}"
        for c, child in enumerate(children):
            where = f"$.components[{r}].components[{c}]"
            if child.get("custom_id"):
                custom_ids.append(child["custom_id"])
            if child.get("type") == BUTTON:
                yield from button_problems(child, where)
            elif child.get("type") in SELECTS:
                yield from select_problems(child, where)
    if len(set(custom_ids)) != len(custom_ids):
        yield "$.components: custom_id values repeat within one message"


def message_problems(message: dict[str, Any] | None, *, creates: bool) -> Iterator[str]:
    """A message body (new or edited), or an interaction callback's `data`."""
    message = message or {}
    embeds = message.get("embeds") or []
    yield from embed_problems(embeds)
    yield from component_problems(message)
    if creates and not (
        str(message.get("content") or "").strip()
        or embeds
        or message.get("components")
        or message.get("attachments")
        or message.get("sticker_ids")
        or message.get("poll")
    ):
        yield "an empty message: no content, embeds, components or files (Discord refuses it, 50006)"


def choice_problems(data: dict[str, Any] | None) -> Iterator[str]:
    for index, choice in enumerate((data or {}).get("choices") or []):
        value = choice.get("value") if isinstance(choice, dict) else None
        if isinstance(value, str) and len(value) > MAX_CHOICE_VALUE:
            yield f"$.data.choices[{index}].value: {len(value)} characters; Discord allows {MAX_CHOICE_VALUE}"


def _command_text(node: dict[str, Any]) -> int:
    total = len(node.get("name") or "") + len(node.get("description") or "")
    for choice in node.get("choices") or []:
        total += len(str(choice.get("name") or "")) + len(str(choice.get("value") or ""))
    return total + sum(_command_text(option) for option in node.get("options") or [])


def _option_problems(options: list[dict[str, Any]], where: str) -> Iterator[str]:
    names = [option.get("name") for option in options]
    if len(set(names)) != len(names):
        yield f"{where}: option names repeat"
    seen_optional = False
    for option in options:
        name = str(option.get("name") or "")
        if not COMMAND_NAME.match(name) or name != name.lower():
            yield f"{where}.{name}: not a valid option name (lowercase, 1-32, no spaces)"
        if option.get("type") in (1, 2):  # subcommands and groups: their own options
            yield from _option_problems(option.get("options") or [], f"{where}.{name}")
            continue
        if option.get("required"):
            if seen_optional:
                yield f"{where}.{name}: a required option follows an optional one"
        else:
            seen_optional = True


def command_problems(commands: Any) -> Iterator[str]:
    for command in commands if isinstance(commands, list) else [commands]:
        if not isinstance(command, dict):
            continue
        name = str(command.get("name") or "")
        chat_input = command.get("type", 1) in (1, None)
        if chat_input:
            if not COMMAND_NAME.match(name) or name != name.lower():
                yield f"/{name}: not a valid slash command name"
            if not 1 <= len(command.get("description") or "") <= 100:
                yield f"/{name}: a slash command needs a description of 1-100 characters"
        yield from _option_problems(command.get("options") or [], f"/{name}")
        total = _command_text(command)
        if total > MAX_COMMAND_TOTAL:
            yield f"/{name}: {total:,} characters of names, descriptions and choices; the limit is 4,000"


EXTRA_RULES: dict[str, Callable[[Any], Iterable[str]]] = {
    "create_message": lambda body: message_problems(body, creates=True),
    "update_message": lambda body: message_problems(body, creates=False),
    "execute_webhook": lambda body: message_problems(body, creates=True),
    "update_original_webhook_message": lambda body: message_problems(body, creates=False),
    "update_webhook_message": lambda body: message_problems(body, creates=False),
    "bulk_set_application_commands": command_problems,
    "bulk_set_guild_application_commands": command_problems,
    "create_application_command": command_problems,
    "create_guild_application_command": command_problems,
    "update_application_command": command_problems,
    "update_guild_application_command": command_problems,
}


def _callback_problems(body: Any) -> Iterator[str]:
    if not isinstance(body, dict):
        return
    kind = body.get("type")
    if kind in MESSAGE_CALLBACKS:
        yield from message_problems(body.get("data"), creates=MESSAGE_CALLBACKS[kind] == "create")
    elif kind == AUTOCOMPLETE_CALLBACK:
        yield from choice_problems(body.get("data"))


EXTRA_RULES["create_interaction_response"] = _callback_problems


# -- checking requests --------------------------------------------------------------------------


def unlisted_reason(method: str, path: str) -> str | None:
    for listed_method, pattern, reason in UNLISTED:
        if listed_method == method and fnmatch.fnmatch(path, pattern):
            return reason
    return None


def check(method: str, path: str, body: Any, *, tally: Tally | None = TALLY) -> list[Problem]:
    """What Discord would refuse about one request; [] when it would accept it."""
    found = spec()
    op = found.operation(method, path)
    if op is None:
        if unlisted_reason(method, path) is not None:
            return []
        return [Problem(method, path, "no operation in Discord's spec has this route")]
    messages: list[str] = []
    if body is None:
        if op.body_required:
            messages.append(f"{op.operation_id} needs a request body")
    elif op.body_schema is None:
        messages.append(f"{op.operation_id} takes no request body")
    else:
        messages.extend(found.schema_errors(op, body))
        rules = EXTRA_RULES.get(op.operation_id)
        if rules is not None:
            messages.extend(rules(body))
        if tally is not None:
            tally.validated += 1
            tally.invalid += bool(messages)
    return [Problem(method, path, message) for message in messages]


def check_requests(entries: Iterable[Any], *, tally: Tally | None = TALLY) -> list[Problem]:
    """Every problem in a log of SimCord HttpLogEntry (method, path, params, json, reason)."""
    problems: list[Problem] = []
    for entry in entries:
        problems.extend(check(entry.method, entry.path, entry.json, tally=tally))
    return problems
