"""Forms and tables derived from the message declarations (one declaration of each layout).

A transaction's form has one input per field of its message: integers, text (with its length),
codes (a choice of the enum's names), flags (a checkbox), a series (a choice of the day's series
by symbol) and lists of records (JSON). Submitted values are converted by the same rules as the
command-line client (:func:`protocol.values.from_dict`); a value that cannot be converted is
refused here, next to its field, before anything is sent.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from protocol.registry import BY_CODE, all_specs
from protocol.values import from_dict, to_dict

all_specs()  # every declaration registered


@dataclass
class Input:
    name: str        # dotted path: "amount", "series"
    label: str
    kind: str        # int, text, code, bool, series, items
    doc: str
    length: int = 0
    choices: list[str] = field(default_factory=list)


class FormError(Exception):
    """A value the console could not turn into the message (nothing was sent)."""

    def __init__(self, field_name: str, text: str):
        self.field = field_name
        self.text = text
        super().__init__(f"{field_name}: {text}")


def spec(code: str):
    return BY_CODE[code]


def inputs(code: str) -> list[Input]:
    return _inputs(spec(code).record, "")


def _inputs(rec, prefix: str) -> list[Input]:
    out = []
    for f in rec.fields:
        name = prefix + f.name
        label = f.name.replace("_", " ")
        if f.kind == "filler":
            continue
        if f.kind == "record":
            if f.name == "series":
                out.append(Input(name, label, "series", f.doc))
            else:
                out += _inputs(f.record, name + ".")
        elif f.kind == "items":
            example = {x.name: "" for x in f.record.fields if x.kind != "filler"}
            out.append(Input(name, label, "items", f"{f.doc}. JSON list of {json.dumps(example)}"))
        elif f.kind == "code":
            out.append(Input(name, label, "code", f.doc, choices=[m.name for m in f.enum_cls]))
        else:
            out.append(Input(name, label, f.kind, f.doc, length=f.length))
    return out


def build(code: str, values: dict[str, str], series_keys: dict[str, dict]) -> object:
    """The message of ``code`` from submitted form values (raises FormError at the field)."""
    data: dict = {}
    for inp in inputs(code):
        raw = values.get(inp.name, "")
        if inp.kind == "bool":
            value = raw in ("1", "on", "true", "yes")
        elif inp.kind == "int":
            raw = raw.strip().replace(",", "").replace("_", "")
            if raw == "":
                continue
            try:
                value = int(raw, 10)
            except ValueError:
                raise FormError(inp.name, "a whole number is needed (no decimal point: integers in the "
                                          "published decimals)") from None
        elif inp.kind == "series":
            raw = raw.strip()
            if not raw:
                continue
            if raw not in series_keys:
                raise FormError(inp.name, f"unknown series {raw!r}")
            value = series_keys[raw]
        elif inp.kind == "items":
            raw = raw.strip() or "[]"
            try:
                value = json.loads(raw)
            except ValueError as e:
                raise FormError(inp.name, f"not JSON: {e}") from None
            if not isinstance(value, list) or not all(isinstance(x, dict) for x in value):
                raise FormError(inp.name, "a JSON list of objects is needed")
            for x in value:
                if isinstance(x.get("series"), str):
                    if x["series"] not in series_keys:
                        raise FormError(inp.name, f"unknown series {x['series']!r}")
                    x["series"] = series_keys[x["series"]]
        elif inp.kind == "code":
            if not raw:
                continue
            value = raw.strip().upper()
            if value not in inp.choices:
                raise FormError(inp.name, f"{raw!r} is not one of {', '.join(inp.choices)}")
        else:
            value = raw.strip()
            if len(value) > inp.length:
                raise FormError(inp.name, f"at most {inp.length} characters")
            if not value.isascii():
                raise FormError(inp.name, "ASCII only")
        _set(data, inp.name, value)
    try:
        return from_dict(spec(code).cls, data)
    except (KeyError, ValueError, TypeError) as e:
        raise FormError(_guess_field(str(e), data), str(e)) from None


def _guess_field(text: str, data: dict) -> str:
    for k in data:
        if k in text:
            return k
    return ""


def _set(d: dict, dotted: str, value) -> None:
    parts = dotted.split(".")
    for p in parts[:-1]:
        d = d.setdefault(p, {})
    d[parts[-1]] = value


# ------------------------------------------------------------------ tables
def table(answer) -> tuple[dict, list[str], list[dict]]:
    """(head fields, columns, rows) of an answer: scalar fields, and its items flattened."""
    from console.session import flat
    d = to_dict(answer)
    rec = type(answer).__record__
    head = {}
    rows: list[dict] = []
    for f in rec.fields:
        if f.kind == "filler":
            continue
        if f.kind == "items":
            rows = [flat(x) for x in d[f.name]]
        elif f.kind == "record":
            head.update(flat(d[f.name], f.name + "."))
        else:
            head[f.name] = d[f.name]
    columns = list(rows[0]) if rows else []
    if rows and "series_symbol" in columns:  # the symbol says it: not the seven key fields
        columns = [c for c in columns if not c.startswith("series.")]
    columns = [c for c in columns if not isinstance(rows[0][c], list)] if rows else []
    return head, columns, rows


def item_columns(code: str) -> list[str]:
    """The columns of an empty answer (from the declaration)."""
    rec = spec(code).record
    if not rec.has_items:
        return []
    cols = []
    for f in rec.items.record.fields:
        if f.kind in ("filler", "items"):
            continue
        if f.kind == "record":
            if f.name == "series":
                continue
            cols += [f"{f.name}.{x.name}" for x in f.record.fields if x.kind != "filler"]
        else:
            cols.append(f.name)
    return cols
