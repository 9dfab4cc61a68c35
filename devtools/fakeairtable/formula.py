"""A small Airtable formula language for ``filterByFormula``: tokenizer, parser, compiler.

Supported, parsed properly (any nesting, whitespace, either quote style, ``\\'`` escapes):

- literals: numbers, ``'text'`` / ``"text"``, ``TRUE()`` / ``FALSE()`` / ``BLANK()`` (and bare
  ``TRUE`` / ``FALSE``);
- field references by **name**: ``{Field Name}`` (``\\}`` escapes a brace, as pyairtable writes
  it). As on Airtable, a field id such as ``{fldXXXXXXXXXXXXXX}`` is not a name: it is refused
  with "Unknown field names: fld…";
- operators ``= != < > <= >=`` (comparisons), ``&`` (concatenation), ``+ - * /`` and unary ``-``,
  parentheses;
- functions: AND, OR, XOR, NOT, IF, ISERROR, TRUE, FALSE, BLANK, IS_AFTER, IS_BEFORE, IS_SAME,
  DATETIME_PARSE (one argument: ISO 8601; naive means UTC), LAST_MODIFIED_TIME (no argument:
  the record; field arguments: the latest change to those fields), CREATED_TIME, RECORD_ID, NOW,
  TODAY, LEN, LOWER, UPPER, TRIM, FIND.

What pyairtable renders, all supported:
``IS_AFTER(LAST_MODIFIED_TIME(), DATETIME_PARSE('2024-01-02T03:04:05.000Z'))``,
``LAST_MODIFIED_TIME()>DATETIME_PARSE('2024-01-02T03:04:05.000Z')`` (``GT``; a naive datetime
renders without the ``Z``), ``AND(...)``, ``OR(...)``, ``NOT(...)``, ``{Status}='Done'``,
``{Done}=TRUE()``, ``{Count}>=3``.

A formula that does not parse, names an unknown field or function, or has the wrong number of
arguments raises ``FormulaError`` (the server answers 422 INVALID_FILTER_BY_FORMULA). A formula
that parses but fails on a record (e.g. ``IS_AFTER`` of a blank, ``DATETIME_PARSE('garbage')``)
is ``#ERROR!`` for that record, which does not match, as on Airtable.
"""

from __future__ import annotations

import datetime as dt
import math
import operator
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .model import ms_to_iso, parse_iso

if TYPE_CHECKING:
    from .model import FakeRecord, FakeTable

Predicate = Callable[["FakeRecord"], bool]
_Eval = Callable[["FakeRecord | None"], Any]

INVALID_FORMULA = "Invalid formula. Please check your formula text."


class FormulaError(ValueError):
    """The formula is refused as a whole (422 INVALID_FILTER_BY_FORMULA)."""


class _CellError(Exception):
    """#ERROR! for one record."""


# ---------------------------------------------------------------------------------------------
# Tokenizer

_NUMBER = re.compile(r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TWO_CHAR_OPS = ("!=", "<=", ">=", "<>")
_ONE_CHAR_OPS = "=<>&+-*/"
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r"}


def tokenize(text: str) -> list[tuple[str, Any]]:
    tokens: list[tuple[str, Any]] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c in "'\"":
            i += 1
            buf = []
            while True:
                if i >= n:
                    raise FormulaError(INVALID_FORMULA)
                c2 = text[i]
                if c2 == "\\" and i + 1 < n:
                    buf.append(_ESCAPES.get(text[i + 1], text[i + 1]))
                    i += 2
                elif c2 == c:
                    i += 1
                    break
                else:
                    buf.append(c2)
                    i += 1
            tokens.append(("STR", "".join(buf)))
        elif c == "{":
            i += 1
            buf = []
            while True:
                if i >= n:
                    raise FormulaError(INVALID_FORMULA)
                c2 = text[i]
                if c2 == "\\" and text.startswith("}", i + 1):
                    buf.append("}")
                    i += 2
                elif c2 == "}":
                    i += 1
                    break
                else:
                    buf.append(c2)
                    i += 1
            tokens.append(("FIELD", "".join(buf)))
        elif (m := _NUMBER.match(text, i)) is not None:
            literal = m.group()
            is_float = any(ch in literal for ch in ".eE")
            value: float | int = float(literal) if is_float else int(literal)
            tokens.append(("NUM", value))
            i = m.end()
        elif (m := _IDENT.match(text, i)) is not None:
            tokens.append(("IDENT", m.group()))
            i = m.end()
        elif text.startswith(_TWO_CHAR_OPS, i):
            op = text[i : i + 2]
            tokens.append(("OP", "!=" if op == "<>" else op))
            i += 2
        elif c in _ONE_CHAR_OPS:
            tokens.append(("OP", c))
            i += 1
        elif c in "(),":
            tokens.append((c, c))
            i += 1
        else:
            raise FormulaError(INVALID_FORMULA)
    tokens.append(("EOF", None))
    return tokens


# ---------------------------------------------------------------------------------------------
# Parser: nodes are tuples ("num", v) ("str", v) ("bool", v) ("field", name)
# ("call", NAME, [args]) ("bin", op, left, right) ("neg", node)

_COMPARISONS = ("=", "!=", "<", ">", "<=", ">=")


class _Parser:
    def __init__(self, tokens: list[tuple[str, Any]]):
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> tuple[str, Any]:
        return self.tokens[self.pos]

    def take(self) -> tuple[str, Any]:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def expect(self, kind: str) -> None:
        if self.take()[0] != kind:
            raise FormulaError(INVALID_FORMULA)

    def parse(self) -> tuple:
        if self.peek()[0] == "EOF":
            raise FormulaError(INVALID_FORMULA)
        node = self.comparison()
        if self.peek()[0] != "EOF":
            raise FormulaError(INVALID_FORMULA)
        return node

    def _binary(self, ops: tuple[str, ...], operand: Callable[[], tuple]) -> tuple:
        node = operand()
        while (tok := self.peek())[0] == "OP" and tok[1] in ops:
            self.take()
            node = ("bin", tok[1], node, operand())
        return node

    def comparison(self) -> tuple:
        return self._binary(_COMPARISONS, self.concat)

    def concat(self) -> tuple:
        return self._binary(("&",), self.additive)

    def additive(self) -> tuple:
        return self._binary(("+", "-"), self.term)

    def term(self) -> tuple:
        return self._binary(("*", "/"), self.unary)

    def unary(self) -> tuple:
        tok = self.peek()
        if tok == ("OP", "-"):
            self.take()
            return ("neg", self.unary())
        if tok == ("OP", "+"):
            self.take()
            return self.unary()
        return self.primary()

    def primary(self) -> tuple:
        kind, value = self.take()
        if kind == "NUM":
            return ("num", value)
        if kind == "STR":
            return ("str", value)
        if kind == "FIELD":
            return ("field", value)
        if kind == "(":
            node = self.comparison()
            self.expect(")")
            return node
        if kind == "IDENT":
            name = value.upper()
            if self.peek()[0] != "(":
                if name in ("TRUE", "FALSE"):
                    return ("bool", name == "TRUE")
                raise FormulaError(INVALID_FORMULA)
            self.take()
            args: list[tuple] = []
            if self.peek()[0] != ")":
                args.append(self.comparison())
                while self.peek()[0] == ",":
                    self.take()
                    args.append(self.comparison())
            self.expect(")")
            return ("call", name, args)
        raise FormulaError(INVALID_FORMULA)


def parse(text: str) -> tuple:
    return _Parser(tokenize(text)).parse()


def _walk(node: tuple):
    yield node
    if node[0] == "call":
        for arg in node[2]:
            yield from _walk(arg)
    elif node[0] == "bin":
        yield from _walk(node[2])
        yield from _walk(node[3])
    elif node[0] == "neg":
        yield from _walk(node[1])


# ---------------------------------------------------------------------------------------------
# Values and coercions. Values: None (blank), bool, int, float, str, aware datetime.


def _from_ms(ms: int | None) -> dt.datetime | None:
    if ms is None:
        return None
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC)


def to_datetime(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and value:
        try:
            return parse_iso(value)
        except ValueError:
            raise _CellError from None
    raise _CellError


def to_number(value: Any) -> float | int:
    if value is None:
        return 0
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        try:
            return float(value) if value.strip() else 0
        except ValueError:
            raise _CellError from None
    raise _CellError


def to_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return ms_to_iso(int(value.timestamp() * 1000))
    return str(value)


def truthy(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, float) and math.isnan(value):
        return False
    return bool(value)


_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
}


def compare(op: str, a: Any, b: Any) -> bool:
    if a is None and b is None:
        return op in ("=", "<=", ">=")
    if isinstance(a, dt.datetime) or isinstance(b, dt.datetime):
        if a is None or b is None or a == "" or b == "":
            return op == "!="
        return _OPS[op](to_datetime(a), to_datetime(b))
    if isinstance(a, bool | int | float) or isinstance(b, bool | int | float):
        return _OPS[op](to_number(a), to_number(b))
    return _OPS[op](to_text(a), to_text(b))


def _arith(op: str, a: Any, b: Any) -> Any:
    x, y = to_number(a), to_number(b)
    if op == "+":
        return x + y
    if op == "-":
        return x - y
    if op == "*":
        return x * y
    if y == 0:
        raise _CellError
    return x / y


_SAME_UNITS = {
    "millisecond": None,
    "milliseconds": None,
    "ms": None,
    "second": "%Y%m%d%H%M%S",
    "seconds": "%Y%m%d%H%M%S",
    "s": "%Y%m%d%H%M%S",
    "minute": "%Y%m%d%H%M",
    "minutes": "%Y%m%d%H%M",
    "m": "%Y%m%d%H%M",
    "hour": "%Y%m%d%H",
    "hours": "%Y%m%d%H",
    "h": "%Y%m%d%H",
    "day": "%Y%m%d",
    "days": "%Y%m%d",
    "d": "%Y%m%d",
    "month": "%Y%m",
    "months": "%Y%m",
    "M": "%Y%m",
    "year": "%Y",
    "years": "%Y",
    "y": "%Y",
}


def _is_same(a: Any, b: Any, unit: Any = "millisecond") -> bool:
    x, y = to_datetime(a), to_datetime(b)
    key = to_text(unit)
    if key not in _SAME_UNITS:
        raise _CellError
    fmt = _SAME_UNITS[key]
    if fmt is None:
        return int(x.timestamp() * 1000) == int(y.timestamp() * 1000)
    return x.strftime(fmt) == y.strftime(fmt)


def _find(needle: Any, haystack: Any, start: Any = 0) -> int:
    begin = max(int(to_number(start)) - 1, 0)
    return to_text(haystack).find(to_text(needle), begin) + 1


def _xor(*values: Any) -> bool:
    return sum(truthy(v) for v in values) % 2 == 1


def _now(*_args: Any) -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _today(*_args: Any) -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)


# name -> (min args, max args or None, implementation over evaluated arguments)
_PURE_FUNCTIONS: dict[str, tuple[int, int | None, Callable[..., Any]]] = {
    "AND": (1, None, lambda *v: all(truthy(x) for x in v)),
    "OR": (1, None, lambda *v: any(truthy(x) for x in v)),
    "XOR": (1, None, _xor),
    "NOT": (1, 1, lambda v: not truthy(v)),
    "IF": (2, 3, lambda c, a, b=None: a if truthy(c) else b),
    "TRUE": (0, 0, lambda: True),
    "FALSE": (0, 0, lambda: False),
    "BLANK": (0, 0, lambda: None),
    "IS_AFTER": (2, 2, lambda a, b: to_datetime(a) > to_datetime(b)),
    "IS_BEFORE": (2, 2, lambda a, b: to_datetime(a) < to_datetime(b)),
    "IS_SAME": (2, 3, _is_same),
    "DATETIME_PARSE": (1, 3, to_datetime),  # formats: refused in compile_call
    "NOW": (0, 0, _now),
    "TODAY": (0, 0, _today),
    "LEN": (1, 1, lambda v: len(to_text(v))),
    "LOWER": (1, 1, lambda v: to_text(v).lower()),
    "UPPER": (1, 1, lambda v: to_text(v).upper()),
    "TRIM": (1, 1, lambda v: to_text(v).strip()),
    "FIND": (2, 3, _find),
}
_RECORD_FUNCTIONS = ("LAST_MODIFIED_TIME", "CREATED_TIME", "RECORD_ID")
_KNOWN_FUNCTIONS = {*_PURE_FUNCTIONS, *_RECORD_FUNCTIONS, "ISERROR"}

_TIME_TYPES = {"date", "dateTime", "createdTime", "lastModifiedTime"}
_NUMBER_TYPES = {
    "number",
    "percent",
    "currency",
    "rating",
    "duration",
    "count",
    "autoNumber",
}


# ---------------------------------------------------------------------------------------------
# Compiler


def _cell_text(value: Any) -> str:
    if isinstance(value, dict):
        if "error" in value:
            raise _CellError
        for key in ("name", "email", "filename", "url", "id"):
            if key in value:
                return str(value[key])
        return ""
    return to_text(value)


def _field_reader(field: dict[str, Any], table: FakeTable) -> _Eval:
    field_id = field["id"]
    kind = field["type"]
    if kind == "checkbox":
        return lambda rec: bool(rec.fields.get(field_id))

    linked = None
    if kind == "multipleRecordLinks":
        linked_id = (field.get("options") or {}).get("linkedTableId")
        linked = table.base.find_table(linked_id) if linked_id else None

    def read(rec: FakeRecord | None) -> Any:
        value = rec.fields.get(field_id) if rec is not None else None
        if value is None:
            return None
        if isinstance(value, dict):
            if "error" in value:
                raise _CellError
            if value.get("specialValue") == "NaN":
                return math.nan
            return _cell_text(value)
        if isinstance(value, list):
            if linked is not None:
                names = []
                for rid in value:
                    other = linked._records.get(rid)
                    primary = other.fields.get(linked.primary_field_id) if other else None
                    names.append(_cell_text(primary))
                return ", ".join(names)
            return ", ".join(_cell_text(v) for v in value)
        if kind in _TIME_TYPES and isinstance(value, str):
            return to_datetime(value)
        if kind in _NUMBER_TYPES and isinstance(value, str):
            return to_number(value)
        return value

    return read


class _Compiler:
    def __init__(self, table: FakeTable):
        self.table = table

    def compile(self, node: tuple) -> tuple[_Eval, bool]:
        """-> (evaluator, is_constant). Constant subtrees are evaluated once."""
        kind = node[0]
        if kind in ("num", "str", "bool"):
            value = node[1]
            return (lambda _rec: value), True
        if kind == "field":
            field = self.table.field_by_name(node[1])
            assert field is not None  # checked before compiling
            return _field_reader(field, self.table), False
        if kind == "neg":
            inner, const = self.compile(node[1])
            return self._fold(lambda rec: -to_number(inner(rec)), const)
        if kind == "bin":
            op = node[1]
            left, lconst = self.compile(node[2])
            right, rconst = self.compile(node[3])
            const = lconst and rconst
            if op in _OPS:
                return self._fold(lambda rec: compare(op, left(rec), right(rec)), const)
            if op == "&":
                return self._fold(lambda rec: to_text(left(rec)) + to_text(right(rec)), const)
            return self._fold(lambda rec: _arith(op, left(rec), right(rec)), const)
        if kind == "call":
            return self.compile_call(node[1], node[2])
        raise FormulaError(INVALID_FORMULA)  # pragma: no cover

    def _fold(self, fn: _Eval, const: bool) -> tuple[_Eval, bool]:
        if not const:
            return fn, False
        try:
            value = fn(None)
        except _CellError:
            return fn, False  # an error on every record: keep raising it
        return (lambda _rec: value), True

    def compile_call(self, name: str, args: list[tuple]) -> tuple[_Eval, bool]:
        if name == "LAST_MODIFIED_TIME":
            if any(a[0] != "field" for a in args):
                raise FormulaError(INVALID_FORMULA)
            field_ids = [self.table.field_by_name(a[1])["id"] for a in args]
            if not field_ids:
                return (lambda rec: _from_ms(rec.modified)), False

            def last_modified(rec: FakeRecord) -> dt.datetime | None:
                times = [t for f in field_ids if (t := rec.field_modified_ms(f)) is not None]
                return _from_ms(max(times)) if times else None

            return last_modified, False
        if name in _RECORD_FUNCTIONS:
            if args:
                raise FormulaError(INVALID_FORMULA)
            if name == "CREATED_TIME":
                return (lambda rec: _from_ms(rec.created)), False
            return (lambda rec: rec.id), False
        if name == "ISERROR":
            if len(args) != 1:
                raise FormulaError(INVALID_FORMULA)
            inner, _ = self.compile(args[0])

            def is_error(rec: FakeRecord | None) -> bool:
                try:
                    inner(rec)
                except _CellError:
                    return True
                return False

            return is_error, False
        if name == "DATETIME_PARSE" and len(args) > 1:
            raise FormulaError("the fake Airtable parses ISO 8601 only: DATETIME_PARSE(text)")
        if name not in _PURE_FUNCTIONS:
            raise FormulaError(f"Unknown function names: {name}")
        low, high, impl = _PURE_FUNCTIONS[name]
        if len(args) < low or (high is not None and len(args) > high):
            raise FormulaError(INVALID_FORMULA)
        compiled = [self.compile(a) for a in args]
        fns = [fn for fn, _ in compiled]
        const = all(c for _, c in compiled)
        return self._fold(lambda rec: impl(*(fn(rec) for fn in fns)), const)


def compile_formula(text: str, table: FakeTable) -> Predicate:
    """Compile ``filterByFormula`` for a table. Raises FormulaError (-> 422)."""
    tree = parse(text)
    unknown_fields = []
    unknown_functions = []
    for node in _walk(tree):
        if node[0] == "field" and table.field_by_name(node[1]) is None:
            unknown_fields.append(node[1])
        elif node[0] == "call" and node[1] not in _KNOWN_FUNCTIONS:
            unknown_functions.append(node[1])
    if unknown_fields:
        raise FormulaError("Unknown field names: " + ", ".join(dict.fromkeys(unknown_fields)))
    if unknown_functions:
        raise FormulaError("Unknown function names: " + ", ".join(dict.fromkeys(unknown_functions)))
    fn, _ = _Compiler(table).compile(tree)

    def predicate(record: FakeRecord) -> bool:
        try:
            return truthy(fn(record))
        except (_CellError, TypeError, ValueError, OverflowError):
            return False

    return predicate
