"""The Wireshark dissector (Lua), generated from the message declarations.

``python -m gateway.tools dissector > hkpost.lua`` prints it; the package ships it ready-made as
``gateway/data/hkpost.lua`` (a test regenerates it and compares). The layouts come from the same
declarations as docs/protocol.md: the frame header (:data:`protocol.framing.HEADER`), every message
of :func:`protocol.registry.all_specs` and the records they nest; the names of enumerated values
from their ``IntEnum`` classes; frame kinds, flags, streams and status codes from their
declarations. A field descriptor that carries ``decimals`` (fixed-point scale) is shown scaled, one
that carries ``temporal`` ("date", "time", "datetime") as a date or time; the field's filter value
stays the integer or text of the wire.

The Lua file is data (one table per record and per message) plus one fixed interpreter of those
tables, :data:`ENGINE`: it never holds a layout of its own. It follows the frames through TCP
(a frame split across segments is reassembled, several frames in one segment are each dissected)
and marks what the gateway would refuse as malformed with an expert info, never a Lua error.
"""
from __future__ import annotations

import enum
from pathlib import Path

from gateway.config import DEFAULT_PORT
from protocol.codec import Record
from protocol.framing import HEADER, HEADER_SIZE, MAX_FRAME_SIZE, VERSION
from protocol.kinds import Flag, Kind
from protocol.registry import all_specs, type_bytes
from protocol.status import TEXTS, SessionStatus
from protocol.streams import Stream

SHIPPED = Path(__file__).resolve().parent / "data" / "hkpost.lua"

_INT = {"B": ("uint8", 1), "H": ("uint16", 2), "I": ("uint32", 4), "Q": ("uint64", 8),
        "b": ("int8", 1), "h": ("int16", 2), "i": ("int32", 4), "q": ("int64", 8)}
_TEMPORAL = ("date", "time", "datetime")
# A descriptor naming its text form instead (``form``: "YYYYMMDD", ...) says the same thing
_FORMS = {"YYYYMMDD": "date", "HHMMSS": "time", "YYYYMMDDHHMMSS": "datetime"}


def temporal_of(f) -> str | None:
    """"date", "time", "datetime" or None: the field descriptor's ``temporal`` (or its ``form``)."""
    t = getattr(f, "temporal", None)
    if t is None:
        t = _FORMS.get(getattr(f, "form", None) or "")
    if t is not None and t not in _TEMPORAL:
        raise ValueError(f"field {f.name}: temporal {t!r} is none of {_TEMPORAL}")
    return t


# The header fields whose values have names declared elsewhere: field name -> Lua value-string table.
_HEADER_NAMES = {"kind": "VS_KIND", "session_status": "VS_SESSION_STATUS", "business_status": "VS_BUSINESS_STATUS",
                 "stream": "VS_STREAM"}


def lua_str(s: str) -> str:
    """A Lua string literal (ASCII only: other characters as decimal byte escapes)."""
    out = ['"']
    for b in s.encode("utf-8"):
        c = chr(b)
        if c in '"\\':
            out.append("\\" + c)
        elif 32 <= b < 127:
            out.append(c)
        else:
            out.append(f"\\{b:03d}")
    out.append('"')
    return "".join(out)


def _kind_of(f) -> str:
    """The field's kind; a kind this generator does not know is read from its struct format."""
    if f.kind in ("int", "text", "filler", "code", "bool", "record", "items"):
        return f.kind
    if f.fmt in _INT:
        return "int"
    if f.fmt.endswith("s") and f.fmt[:-1].isdigit():
        return "text"
    raise TypeError(f"field {f.name}: kind {f.kind!r} has no dissector rendering")


def _signed(fmt: str) -> str:
    return ", s=true" if fmt.islower() else ""


class _Lua:
    """Collects the generated tables: value strings, ProtoFields, records, messages."""

    def __init__(self) -> None:
        self.enums: dict[type, str] = {}
        self.enum_lines: list[str] = []
        self.abbrevs: set[str] = set()
        self.records: dict[str, Record] = {}
        self.record_lines: list[str] = []

    def enum_table(self, cls: type[enum.IntEnum]) -> str:
        if cls not in self.enums:
            name = cls.__name__
            taken = set(self.enums.values())
            n = 2
            while name in taken:
                name, n = f"{cls.__name__}{n}", n + 1
            self.enums[cls] = name
            items = ", ".join(f"[{int(m)}] = {lua_str(m.name)}" for m in cls)
            self.enum_lines.append(f"VS[{lua_str(name)}] = {{ {items} }}")
        return f"VS[{lua_str(self.enums[cls])}]"

    def abbrev(self, a: str) -> str:
        if a in self.abbrevs:
            raise ValueError(f"dissector field {a} declared twice")
        self.abbrevs.add(a)
        return a

    def record_ref(self, rec: Record) -> str:
        known = self.records.get(rec.name)
        if known is None:
            self.records[rec.name] = rec
            self.record_lines.append(f"R[{lua_str(rec.name)}] = {self.fields(rec, 'hkpost.' + rec.name)}")
        elif known is not rec:
            raise ValueError(f"two different records named {rec.name}")
        return lua_str(rec.name)

    def fields(self, rec: Record, prefix: str, names: dict[str, str] | None = None) -> str:
        """A Lua list of field entries: {k=kind, n=size, name=, f=ProtoField, ...}."""
        entries = []
        for f in rec.fields:
            kind = _kind_of(f)
            doc = lua_str(f.doc)
            if kind == "filler":
                entries.append(f"{{k=\"filler\", n={f.size}}}")
                continue
            abbr = lua_str(self.abbrev(f"{prefix}.{f.name}"))
            name = lua_str(f.name)
            extra = ""
            decimals = getattr(f, "decimals", None)
            temporal = temporal_of(f)
            if decimals is not None:
                extra += f", dec={int(decimals)}"
            if temporal is not None:
                extra += f", tmp={lua_str(temporal)}"
            if kind == "int":
                ftype, size = _INT[f.fmt]
                vs = _HEADER_NAMES.get(f.name, "nil") if names is not None else "nil"
                display = "base.HEX" if names is not None and f.name == "flags" else "base.DEC"
                entries.append(f"{{k=\"int\", n={size}, name={name}{_signed(f.fmt)}{extra}, "
                               f"f=PF(ProtoField.{ftype}({abbr}, {name}, {display}, {vs}, nil, {doc}))}}")
            elif kind == "text":
                entries.append(f"{{k=\"text\", n={f.size}, name={name}{extra}, "
                               f"f=PF(ProtoField.string({abbr}, {name}, base.ASCII, {doc}))}}")
            elif kind == "code":
                ftype, size = _INT[f.fmt]
                vs = self.enum_table(f.enum_cls)
                entries.append(f"{{k=\"code\", n={size}, name={name}{_signed(f.fmt)}, vs={vs}, "
                               f"f=PF(ProtoField.{ftype}({abbr}, {name}, base.DEC, {vs}, nil, {doc}))}}")
            elif kind == "bool":
                entries.append(f"{{k=\"bool\", n={f.size}, name={name}, "
                               f"f=PF(ProtoField.uint8({abbr}, {name}, base.DEC, VS_BOOL, nil, {doc}))}}")
            elif kind == "record":
                ref = self.record_ref(f.record)
                entries.append(f"{{k=\"record\", n={f.record.size}, name={name}, rec={ref}, "
                               f"f=PF(ProtoField.none({abbr}, {name}, {doc}))}}")
            elif kind == "items":
                ftype, size = _INT[f.fmt]
                ref = self.record_ref(f.record)
                count = lua_str(self.abbrev(f"{prefix}.{f.name}_count"))
                entries.append(f"{{k=\"items\", n={size}, name={name}, rec={ref}, size={f.record.size}, "
                               f"fc=PF(ProtoField.{ftype}({count}, {lua_str(f.name + '_count')}, base.DEC, nil, nil, "
                               f"{lua_str('number of ' + f.name)})), f=PF(ProtoField.none({abbr}, {name}, {doc}))}}")
        return "{\n  " + ",\n  ".join(entries) + "\n}" if entries else "{}"


def render(specs: list | None = None) -> str:
    """The whole Lua dissector, deterministic for given declarations (``specs``: the messages,
    by default every declared one)."""
    from gateway.docgen import _import_clearing
    _import_clearing()  # the clearing modules declare their business codes when imported
    from gateway.clearing.errors import REGISTRY

    lua = _Lua()
    header = lua.fields(HEADER, "hkpost", names={})
    messages = []
    for sp in all_specs() if specs is None else specs:
        body = lua.fields(sp.record, "hkpost." + sp.code.lower())
        messages.append(f"M[{lua_str(sp.code)}] = {{code={lua_str(sp.code)}, name={lua_str(sp.name)}, "
                        f"kind={int(sp.kind)}, fields={body}}}")
    flag_bits = ", ".join(f"{{{f.value}, {lua_str(f.name)}}}" for f in Flag if f.value)
    kinds = ", ".join(f"[{k.value}] = {lua_str(k.name)}" for k in Kind)
    streams = ", ".join(f"[{s.value}] = {lua_str(s.name.lower())}" for s in Stream)
    if 0 not in {int(s) for s in Stream}:
        streams = '[0] = "none", ' + streams
    statuses = ", ".join(f"[{s.value}] = {lua_str(s.name)}" for s in sorted(SessionStatus, key=int))
    status_texts = ", ".join(f"[{s.value}] = {lua_str(TEXTS[s])}" for s in sorted(SessionStatus, key=int))
    business = ", ".join(f"[{n}] = {lua_str(REGISTRY[n].name)}" for n in sorted(REGISTRY))
    if 0 not in REGISTRY:
        business = '[0] = "none", ' + business
    business_texts = ", ".join(f"[{n}] = {lua_str(REGISTRY[n].text)}" for n in sorted(REGISTRY))
    off = HEADER.offsets()
    consts = {"VERSION": VERSION, "HEADER_SIZE": HEADER_SIZE, "MAX_FRAME_SIZE": MAX_FRAME_SIZE,
              "DEFAULT_PORT": DEFAULT_PORT, "OFF_LENGTH": off["length"], "OFF_VERSION": off["version"],
              "OFF_KIND": off["kind"], "KIND_BROADCAST": int(Kind.BROADCAST),
              "TYPE_SIZE": len(type_bytes("UL1"))}  # two letters and a u16, as the registry encodes a type
    if (HEADER.field_types["length"].fmt, HEADER.field_types["version"].fmt, HEADER.field_types["kind"].fmt) != ("I", "B", "B"):
        raise TypeError("the engine reads length as u32, version and kind as u8: update ENGINE")
    parts = [
        "-- hkpost.lua: Wireshark dissector of the HK post-trade emulator's OAPI-style protocol.",
        "-- GENERATED by `python -m gateway.tools dissector` from the message declarations (protocol/):",
        "-- do not edit; regenerate. Load it with `wireshark -X lua_script:hkpost.lua` (or tshark), or copy",
        "-- it into Wireshark's personal Lua plugins folder. Guide: docs/guides/wireshark.md.",
        "",
        *(f"local {k} = {v}" for k, v in consts.items()),
        "",
        'local hkpost = Proto("hkpost", "HK post-trade protocol (OAPI-style)")',
        "local FIELDS = {}",
        "local function PF(f) FIELDS[#FIELDS + 1] = f; return f end",
        "",
        "-- names of values",
        f"local VS_KIND = {{ {kinds} }}",
        f"local VS_STREAM = {{ {streams} }}",
        f"local VS_SESSION_STATUS = {{ {statuses} }}",
        f"local SESSION_TEXT = {{ {status_texts} }}",
        f"local VS_BUSINESS_STATUS = {{ {business} }}",
        f"local BUSINESS_TEXT = {{ {business_texts} }}",
        f"local FLAG_BITS = {{ {flag_bits} }}",
        'local VS_BOOL = { [0] = "false", [1] = "true" }',
        "local VS = {}",
        *lua.enum_lines,  # collected while the fields above were generated
    ]
    parts += ["", "-- the frame header", f"local HEADER = {header}", "",
              "-- records nested in messages (by name) and the messages (by code)", "local R = {}", "local M = {}"]
    parts += lua.record_lines
    parts += messages
    parts += ["", ENGINE]
    return "\n".join(parts) + "\n"


# The interpreter of the tables above. It holds no layout: sizes, names and kinds come from them.
ENGINE = r"""
-- ===================================================================== engine (fixed)
local f_type = PF(ProtoField.string("hkpost.type", "type", base.ASCII, "Message type: two letters and a u16 number"))
local f_message = PF(ProtoField.none("hkpost.message", "message", "The message (payload)"))
local f_header = PF(ProtoField.none("hkpost.header", "header", "The frame header"))
local f_filler = PF(ProtoField.bytes("hkpost.filler", "filler", base.SPACE, "Filler (zero bytes)"))
local f_name = PF(ProtoField.string("hkpost.name", "name", base.ASCII, "Declared name of the message"))
hkpost.fields = FIELDS

local ex_malformed = ProtoExpert.new("hkpost.malformed", "Malformed frame", expert.group.MALFORMED, expert.severity.ERROR)
local ex_protocol = ProtoExpert.new("hkpost.protocol", "Protocol violation", expert.group.PROTOCOL, expert.severity.WARN)
local ex_status = ProtoExpert.new("hkpost.status", "Negative session status (a refusal or the end of the session)", expert.group.RESPONSE_CODE, expert.severity.NOTE)
hkpost.experts = { ex_malformed, ex_protocol, ex_status }

hkpost.prefs.ports = Pref.range("TCP ports", tostring(DEFAULT_PORT), "TCP ports of the gateway", 65535)
hkpost.prefs.max_frame_size = Pref.uint("Maximum frame size", MAX_FRAME_SIZE,
    "Frames longer than this cannot be framed (the gateway's max_frame_size)")

local function malformed(item, tvb, off, len, text)
    -- an expert info on the bytes at fault (or the item when there are none left)
    if off < tvb:len() then
        local n = math.min(len, tvb:len() - off)
        if n < 1 then n = tvb:len() - off end
        item:add_tvb_expert_info(ex_malformed, tvb(off, n), text)
    else
        item:add_proto_expert_info(ex_malformed, text)
    end
end

local function scaled(v, d)
    -- an integer (number or Int64) shown with d decimals, exactly (string arithmetic, no floats)
    local s = tostring(v)
    local neg = s:sub(1, 1) == "-"
    if neg then s = s:sub(2) end
    if d > 0 then
        if #s <= d then s = string.rep("0", d - #s + 1) .. s end
        s = s:sub(1, #s - d) .. "." .. s:sub(#s - d + 1)
    end
    return (neg and "-" or "") .. s
end

local function temporal(s, kind)
    -- YYYYMMDD, HHMMSS or YYYYMMDDHHMMSS (integer or text) as a date or time; nil when not one
    s = s:gsub(" +$", "")
    if kind == "time" and s:match("^%d%d?%d?%d?%d?$") then s = string.rep("0", 6 - #s) .. s end
    if kind == "date" and s:match("^%d%d%d%d%d%d%d%d$") then
        return s:sub(1, 4) .. "-" .. s:sub(5, 6) .. "-" .. s:sub(7, 8)
    elseif kind == "time" and s:match("^%d%d%d%d%d%d$") then
        return s:sub(1, 2) .. ":" .. s:sub(3, 4) .. ":" .. s:sub(5, 6)
    elseif kind == "datetime" and s:match("^%d%d%d%d%d%d%d%d%d%d%d%d%d%d$") then
        return s:sub(1, 4) .. "-" .. s:sub(5, 6) .. "-" .. s:sub(7, 8) .. " " .. s:sub(9, 10) .. ":" .. s:sub(11, 12) .. ":" .. s:sub(13, 14)
    end
    return nil
end

local function value_of(r, e)
    -- the integer of an int or code field: a number, or an Int64/UInt64 for 8 bytes
    if e.n == 8 then
        if e.s then return r:int64() end
        return r:uint64()
    end
    if e.s then return r:int() end
    return r:uint()
end

local dissect_fields

local function show_special(item, e, raw)
    -- fixed-point and temporal display of a value whose wire form is raw (a string)
    if e.dec then item:set_text(e.name .. ": " .. scaled(raw, e.dec)) end
    if e.tmp then
        if raw == "0" or raw:match("^ *$") then
            item:set_text(e.name .. ": (none)")
        else
            local t = temporal(raw, e.tmp)
            if t then item:set_text(e.name .. ": " .. t)
            else item:add_proto_expert_info(ex_protocol, e.name .. ": not a " .. e.tmp .. ": " .. raw) end
        end
    end
end

-- dissects the fields of one record from off (limit: the end of the message); returns the
-- offset after them, or nil after marking the frame malformed
dissect_fields = function(tvb, tree, off, limit, fields, path)
    for _, e in ipairs(fields) do
        if off + e.n > limit then
            malformed(tree, tvb, off, limit - off, "message too short: " .. path .. (e.name or "filler") ..
                " needs " .. e.n .. " bytes at offset " .. off .. ", " .. math.max(limit - off, 0) .. " left")
            return nil
        end
        local r = tvb(off, e.n)
        if e.k == "filler" then
            tree:add(f_filler, r)
        elseif e.k == "int" then
            local item = tree:add(e.f, r)
            if e.dec or e.tmp then show_special(item, e, tostring(value_of(r, e))) end
        elseif e.k == "text" then
            local bytes = r:bytes()
            for i = 0, bytes:len() - 1 do
                local b = bytes:get_index(i)
                if b < 32 or b > 126 then
                    local item = tree:add(e.f, r)
                    malformed(item, tvb, off + i, 1, path .. e.name .. ": byte " .. b .. " is not printable ASCII text")
                    return nil
                end
            end
            local s = r:string():gsub(" +$", "")
            local item = tree:add(e.f, r, s)
            if e.tmp then show_special(item, e, s) end
        elseif e.k == "code" then
            local item = tree:add(e.f, r)
            local v = value_of(r, e)
            if e.vs[v] == nil then
                malformed(item, tvb, off, e.n, path .. e.name .. ": " .. v .. " is not a valid code")
                return nil
            end
        elseif e.k == "bool" then
            local item = tree:add(e.f, r)
            if r:uint() > 1 then
                malformed(item, tvb, off, e.n, path .. e.name .. ": boolean byte must be 0 or 1, got " .. r:uint())
                return nil
            end
        elseif e.k == "record" then
            local sub = tree:add(e.f, r)
            if dissect_fields(tvb, sub, off, off + e.n, R[e.rec], path .. e.name .. ".") == nil then return nil end
        elseif e.k == "items" then
            tree:add(e.fc, r)
            local count = r:uint()
            local start = off + e.n
            if start + count * e.size > limit then
                malformed(tree, tvb, start, limit - start, path .. e.name .. ": " .. count .. " items of " .. e.size ..
                    " bytes run past the end of the message")
                return nil
            end
            for i = 0, count - 1 do
                local at = start + i * e.size
                local sub = tree:add(e.f, tvb(at, e.size))
                sub:set_text(e.name .. "[" .. i .. "]")
                if dissect_fields(tvb, sub, at, at + e.size, R[e.rec], path .. e.name .. "[" .. i .. "].") == nil then
                    return nil
                end
            end
            off = start + count * e.size - e.n
        end
        off = off + e.n
    end
    return off
end

local function flag_names(v)
    local names = {}
    for _, fb in ipairs(FLAG_BITS) do
        if bit32.band(v, fb[1]) ~= 0 then names[#names + 1] = fb[2] end
    end
    return table.concat(names, "|")
end

-- one whole frame (tvb holds exactly its bytes); returns a summary for the Info column
local function dissect_frame(tvb, pinfo, tree)
    local flen = tvb:len()
    local root = tree:add(hkpost, tvb())
    local htree = root:add(f_header, tvb(0, HEADER_SIZE))
    dissect_fields(tvb, htree, 0, HEADER_SIZE, HEADER, "")
    local version = tvb(OFF_VERSION, 1):uint()
    local kind = tvb(OFF_KIND, 1):uint()
    local kind_name = VS_KIND[kind] or ("KIND_" .. kind)
    local off = 0
    local values = {}
    for _, e in ipairs(HEADER) do
        if e.name then values[e.name] = value_of(tvb(off, e.n), e) end
        off = off + e.n
    end
    local flags = values.flags or 0
    if flags ~= 0 then htree:append_text(", flags " .. flag_names(flags)) end
    if version ~= VERSION then
        malformed(htree, tvb, OFF_VERSION, 1, "unsupported version " .. version .. " (the gateway speaks " .. VERSION .. ")")
    end
    if VS_KIND[kind] == nil then
        malformed(htree, tvb, OFF_KIND, 1, "unknown frame kind " .. kind)
    end
    local summary = kind_name
    local ss = values.session_status or 0
    if ss < 0 then
        local text = (VS_SESSION_STATUS[ss] or tostring(ss)) .. ": " .. (SESSION_TEXT[ss] or "")
        local bs = values.business_status or 0
        if bs ~= 0 then text = text .. "; business " .. bs .. " " .. (VS_BUSINESS_STATUS[bs] or "") .. ": " .. (BUSINESS_TEXT[bs] or "") end
        htree:add_proto_expert_info(ex_status, text)
        summary = summary .. " " .. ss .. (bs ~= 0 and ("/" .. bs) or "")
    end
    root:append_text(", " .. kind_name)
    if flen == HEADER_SIZE then
        malformed(root, tvb, 0, HEADER_SIZE, "no payload: every frame carries a message type")
        return summary
    end
    local plen = flen - HEADER_SIZE
    local ptree = root:add(f_message, tvb(HEADER_SIZE, plen))
    if plen < TYPE_SIZE then
        malformed(ptree, tvb, HEADER_SIZE, plen, "payload shorter than the message type")
        return summary
    end
    local letters = tvb(HEADER_SIZE, 2):string()
    local code = letters .. tvb(HEADER_SIZE + 2, 2):uint()
    if not letters:match("^%u%u$") then code = tostring(tvb(HEADER_SIZE, TYPE_SIZE):bytes()) end
    ptree:add(f_type, tvb(HEADER_SIZE, TYPE_SIZE), code)
    local m = M[code]
    if m == nil then
        malformed(ptree, tvb, HEADER_SIZE, TYPE_SIZE, "unknown message type " .. code)
        return summary .. " " .. code .. " (unknown)"
    end
    ptree:add(f_name, tvb(HEADER_SIZE, TYPE_SIZE), m.name)
    ptree:set_text(m.code .. " " .. m.name)
    root:append_text(" " .. m.code .. " " .. m.name)
    summary = summary .. " " .. m.code .. " " .. m.name
    if m.kind ~= kind then
        ptree:add_proto_expert_info(ex_protocol, m.code .. " is a " .. (VS_KIND[m.kind] or m.kind) .. " message, sent in a " .. kind_name .. " frame")
    end
    if kind == KIND_BROADCAST then
        summary = summary .. " " .. (VS_STREAM[values.stream] or values.stream) .. "#" .. values.sequence
    end
    local stop = dissect_fields(tvb, ptree, HEADER_SIZE + TYPE_SIZE, flen, m.fields, "")
    if stop ~= nil and stop ~= flen then
        malformed(ptree, tvb, stop, flen - stop, (flen - stop) .. " bytes after the end of the " .. m.code .. " message")
    end
    return summary
end

function hkpost.dissector(tvb, pinfo, tree)
    local len = tvb:len()
    local off = 0
    local summaries = {}
    local maxf = hkpost.prefs.max_frame_size
    while off < len do
        local rest = len - off
        if rest < 4 then
            pinfo.desegment_offset = off
            pinfo.desegment_len = DESEGMENT_ONE_MORE_SEGMENT
            break
        end
        local flen = tvb(off + OFF_LENGTH, 4):uint()
        if flen < HEADER_SIZE or flen > maxf then
            local root = tree:add(hkpost, tvb(off))
            malformed(root, tvb, off, 4, "frame length " .. flen .. (flen < HEADER_SIZE and (" shorter than the " .. HEADER_SIZE .. "-byte header")
                or (" above the maximum frame size " .. maxf)) .. ": cannot be framed (the gateway closes the connection)")
            summaries[#summaries + 1] = "unframeable"
            off = len
            break
        end
        if rest < flen then
            if rest > OFF_VERSION and tvb(off + OFF_VERSION, 1):uint() ~= VERSION then
                local root = tree:add(hkpost, tvb(off))
                malformed(root, tvb, off + OFF_VERSION, 1, "unsupported version " .. tvb(off + OFF_VERSION, 1):uint() .. ": cannot be framed")
                summaries[#summaries + 1] = "unframeable"
                off = len
                break
            end
            pinfo.desegment_offset = off
            pinfo.desegment_len = flen - rest
            break
        end
        summaries[#summaries + 1] = dissect_frame(tvb(off, flen):tvb(), pinfo, tree)
        off = off + flen
    end
    if #summaries > 0 then
        pinfo.cols.protocol = "HKPOST"
        pinfo.cols.info = table.concat(summaries, ", ")
    end
    return len
end

local tcp_port = DissectorTable.get("tcp.port")
local registered = tostring(DEFAULT_PORT)
tcp_port:add(registered, hkpost)

function hkpost.prefs_changed()
    if hkpost.prefs.ports ~= registered then
        tcp_port:remove(registered, hkpost)
        registered = hkpost.prefs.ports
        tcp_port:add(registered, hkpost)
    end
end
"""

