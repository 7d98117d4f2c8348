"""Mapping files: how each event type becomes an HTTP request (TOML, validated into frozen specs).

```toml
name = "my_backend"
[defaults]
headers = { Authorization = "Bearer {env.API_TOKEN}", X-Visible-Id = "{visible_id}" }
success = [200, 201, 204]
[requests.cart_add]
method = "POST"
path = "/carts/{visible_id}/items"
body = { product = "{product_id}", quantity = "{quantity}" }
[requests."*"]        # every other event type; without it they are skipped and counted
```

A ``[batch]`` table turns the mapping into a batching one: events go out as JSON arrays of up to
``max_events`` bodies, all to the same method and path, waiting up to ``linger_ms`` for more.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from parcours.errors import ParcoursError, SpecError
from parcours.loadtests import checks, templates
from parcours.specfile import Spec, read_toml, validate
from parcours.vocabulary import EventType

ANY_EVENT = "*"
Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]
Status = Annotated[int, Field(ge=100, le=599)]
DEFAULT_SUCCESS = (200, 201, 202, 204)


#: RFC 9110 5.1: a header name is a token.
HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
#: RFC 9110 5.5: a header value holds visible characters, spaces and tabs, never CR, LF or NUL.
HEADER_VALUE = re.compile(r"[\t\x20-\x7e\x80-\U0010ffff]*")
#: A path is sent as written (placeholders aside): printable ASCII without spaces; percent-encode others.
PATH = re.compile(r"/[!-~]*")
ENV_IN_PATH = re.compile(r"[!-~]*")


#: Headers HTTP itself owns: the client writes them from the request (a Content-Length of the mapping's
#: own would frame every request after it wrongly), or they manage the connection, not the request.
HTTP_OWNED = frozenset(
    {"content-length", "host", "transfer-encoding", "connection", "keep-alive", "te", "trailer", "upgrade"}
)
#: Deepest nesting of tables and arrays a mapping file may hold (the built-in ones hold 4).
MAX_DEPTH = 32


def check_headers(headers: dict[str, str]) -> dict[str, str]:
    for name, value in headers.items():
        if name.lower() in HTTP_OWNED:
            raise ValueError(f"header {name}: HTTP sets it from the request itself; a mapping may not")
        if not HEADER_NAME.fullmatch(name):
            raise ValueError(f"header name {name!r} is not a token (letters, digits, !#$%&'*+.^_`|~-)")
        if not HEADER_VALUE.fullmatch(value):
            raise ValueError(f"header {name}: the value {value!r} holds a control character (CR, LF, NUL...)")
    return {name: templates.check_text(value) for name, value in headers.items()}


def check_success(success: tuple[int, ...] | None) -> tuple[int, ...] | None:
    if success is not None and not success:
        raise ValueError("must list at least one status (an empty list would fail every request)")
    return success


class Defaults(Spec):
    headers: dict[str, str] = {}
    success: tuple[Status, ...] = DEFAULT_SUCCESS

    @field_validator("headers")
    @classmethod
    def _header_templates(cls, headers: dict[str, str]) -> dict[str, str]:
        return check_headers(headers)

    @field_validator("success")
    @classmethod
    def _some_success(cls, success: tuple[int, ...]) -> tuple[int, ...]:
        check_success(success)
        return success


class RequestSpec(Spec):
    method: Method = "POST"
    path: str
    name: str | None = None
    headers: dict[str, str] = {}
    body: Any = None
    success: tuple[Status, ...] | None = None
    #: continuity checks on the answer, and facts to remember per customer (see ``checks``)
    expect: list[checks.ExpectSpec] = []
    remember: dict[str, str] = {}
    forget: dict[str, str] = {}

    @field_validator("remember", "forget")
    @classmethod
    def _memory_templates(cls, pairs: dict[str, str]) -> dict[str, str]:
        return {k: v if v == checks.ANY else templates.check_text(v) for k, v in pairs.items()}

    @field_validator("path")
    @classmethod
    def _path_template(cls, path: str) -> str:
        if not path.startswith("/"):
            raise ValueError("must start with /")
        if not PATH.fullmatch(path):
            raise ValueError(
                f"{path!r} holds a space, a control or a non-ASCII character; percent-encode it (%20)"
            )
        return templates.check_text(path)

    @field_validator("headers")
    @classmethod
    def _header_templates(cls, headers: dict[str, str]) -> dict[str, str]:
        return check_headers(headers)

    @field_validator("success")
    @classmethod
    def _some_success(cls, success: tuple[int, ...] | None) -> tuple[int, ...] | None:
        return check_success(success)

    @field_validator("body")
    @classmethod
    def _body_template(cls, body: Any) -> Any:
        return templates.check_json(body)


class BatchSpec(Spec):
    max_events: Annotated[int, Field(ge=2, le=100_000)]
    #: how long a batch may wait for more events after its first is due (the replay's schedule lag
    #: does not count this wait; lag and corrected latency do)
    linger_ms: Annotated[float, Field(ge=0, le=60_000)] = 0.0


class MappingSpec(Spec):
    name: str
    description: str = ""
    defaults: Defaults = Defaults()
    batch: BatchSpec | None = None
    requests: dict[str, RequestSpec]

    @field_validator("requests")
    @classmethod
    def _known_event_types(cls, requests: dict[str, RequestSpec]) -> dict[str, RequestSpec]:
        known = {e.value for e in EventType}
        for event_type in requests:
            if event_type != ANY_EVENT and event_type not in known:
                raise ValueError(
                    f'unknown event type {event_type!r} (known: {", ".join(sorted(known))}, or "*")'
                )
        if not requests:
            raise ValueError("at least one request")
        return requests

    @model_validator(mode="after")
    def _one_target_per_batch(self) -> MappingSpec:
        if self.batch and len({(r.method, r.path) for r in self.requests.values()}) > 1:
            raise ValueError("batch: every request of a batching mapping must have the same method and path")
        if self.batch and any(r.expect or r.remember or r.forget for r in self.requests.values()):
            raise ValueError("batch: continuity checks need one answer per event, not per batch")
        return self


@dataclass(frozen=True)
class Request:
    """A compiled request: what the sender needs, and the templates the reader fills chunk by chunk."""

    key: str  # the event type, or "*"
    name: str  # what Locust's statistics call it
    method: str
    success: frozenset[int]
    path: list[templates.Piece]
    headers: tuple[tuple[str, list[templates.Piece]], ...]
    body: list[templates.Piece] | None
    rules: checks.Rules = checks.Rules((), (), ())
    #: the templates the rules read, filled per event with the request (only with --check)
    check_values: tuple[tuple[str, list[templates.Piece]], ...] = ()


@dataclass(frozen=True)
class Mapping:
    """A validated mapping file, with where it came from."""

    spec: MappingSpec
    source: str

    @cached_property
    def fields(self) -> frozenset[str]:
        """Event fields any template of this mapping reads."""
        used = templates.fields_of(list(self.spec.defaults.headers.values()))
        for req in self.spec.requests.values():
            used |= templates.fields_of([req.path, req.body, *req.headers.values()])
            used |= templates.fields_of(list(self._rules(req).templates().values()))
        return frozenset(used)

    @property
    def has_checks(self) -> bool:
        return any(r.expect for r in self.spec.requests.values())

    @staticmethod
    def _rules(spec: RequestSpec) -> checks.Rules:
        return checks.rules(spec.expect, spec.remember, spec.forget)

    @property
    def batch_max_events(self) -> int:
        return self.spec.batch.max_events if self.spec.batch else 1

    @property
    def batch_linger_s(self) -> float:
        return self.spec.batch.linger_ms / 1000 if self.spec.batch else 0.0

    def handles(self, event_type: str) -> bool:
        return self.request_key(event_type) is not None

    def request_key(self, event_type: str) -> str | None:
        """The request an event type turns into: its own, the catch-all ``*``, or none."""
        if event_type in self.spec.requests:
            return event_type
        return ANY_EVENT if ANY_EVENT in self.spec.requests else None

    def compile(
        self, environ: MappingABC[str, str] | None = None, *, check_level: str | None = None
    ) -> dict[str, Request]:
        """One compiled request per event type this mapping names (``*`` included); with
        ``check_level`` (--check), the continuity checks that apply at that integration level."""
        env = os.environ if environ is None else environ
        return {
            name: self._compile_one(name, spec, env, check_level) for name, spec in self.spec.requests.items()
        }

    def _compile_one(
        self, name: str, spec: RequestSpec, env: MappingABC[str, str], check_level: str | None
    ) -> Request:
        headers = {**self.spec.defaults.headers, **spec.headers}
        rules = self._rules(spec).for_level(check_level) if check_level else checks.Rules((), (), ())
        return Request(
            key=name,
            name=spec.name or (name if name != ANY_EVENT else spec.path),
            method=spec.method,
            success=frozenset(spec.success or self.spec.defaults.success),
            path=templates.text_pieces(spec.path, "url", env),
            headers=tuple((h, templates.text_pieces(v, "text", env)) for h, v in headers.items()),
            body=None if spec.body is None else templates.json_pieces(spec.body, env),
            rules=rules,
            check_values=tuple(
                (key, templates.text_pieces(text, "text", env)) for key, text in rules.templates().items()
            ),
        )

    def check_environment(self, environ: MappingABC[str, str] | None = None) -> None:
        """Every ``{env.NAME}`` the mapping uses must be set, and fit where it goes (no CR or LF in a
        header, nothing but visible ASCII in a path); the error names file, field and variable."""
        env = os.environ if environ is None else environ
        for where, text in self._text_templates():
            missing = templates.missing_env(text, env)
            if missing:
                raise SpecError(self.source, where, f"environment variable {missing[0]} is not set")
            for name in templates.env_names(text):
                value = env.get(name, "")
                if re.fullmatch(r"requests\.[^.]+\.path", where) and not ENV_IN_PATH.fullmatch(value):
                    why = "a space, a control or a non-ASCII character; percent-encode it"
                elif ".body" not in where and not HEADER_VALUE.fullmatch(value):
                    why = "a CR, LF or another control character"
                else:
                    continue
                raise SpecError(self.source, where, f"environment variable {name} holds {why}")

    def _text_templates(self) -> list[tuple[str, str]]:
        found = [(f"defaults.headers.{h}", v) for h, v in self.spec.defaults.headers.items()]
        for name, req in self.spec.requests.items():
            found.append((f"requests.{name}.path", req.path))
            found += [(f"requests.{name}.headers.{h}", v) for h, v in req.headers.items()]
            found += [(f"requests.{name}.body", s) for s in templates.strings(req.body)]
            found += [(f"requests.{name}.checks", s) for s in self._rules(req).templates().values()]
        return found


def builtin_names() -> list[str]:
    folder = resources.files("parcours.loadtests") / "mappings"
    return sorted(p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml"))


def builtin_path(name: str) -> Path:
    return Path(str(resources.files("parcours.loadtests") / "mappings" / f"{name}.toml"))


def resolve(name_or_path: str) -> Path:
    """A built-in mapping name or a path to a TOML file."""
    if name_or_path in builtin_names():
        return builtin_path(name_or_path)
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists():
        return path
    raise ParcoursError(
        f"--mapping: {name_or_path!r} is neither a built-in mapping ({', '.join(builtin_names())}) "
        "nor a .toml file"
    )


def from_dict(data: dict[str, Any], source: str) -> Mapping:
    return Mapping(validate(MappingSpec, data, source), source)


def load(name_or_path: str) -> Mapping:
    """Read and validate a mapping; a bad file raises SpecError naming the file and the field.

    Read as spec files are, at most 1 MiB of UTF-8; only a regular file (a FIFO would block the
    reading), and nested no deeper than ``MAX_DEPTH``."""
    path = resolve(name_or_path)
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            raise SpecError(path, "", "not a regular file (a FIFO, a device or a folder is not a mapping)")
    except FileNotFoundError:
        raise SpecError(path, "", "no such file") from None
    except OSError as exc:
        raise SpecError(path, "", f"cannot read ({exc.strerror})") from None
    try:
        data = read_toml(path)
    except RecursionError:
        raise SpecError(path, "", f"nested deeper than {MAX_DEPTH} tables or arrays") from None
    if _depth(data) > MAX_DEPTH:
        raise SpecError(path, "", f"nested deeper than {MAX_DEPTH} tables or arrays")
    return from_dict(data, str(path))


def _depth(value: Any) -> int:
    """How deep tables and arrays nest in ``value`` (walked without recursion)."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth > MAX_DEPTH:
            break
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        stack.extend((child, depth + 1) for child in children)
    return deepest
