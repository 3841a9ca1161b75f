#!/usr/bin/env python3
"""Writes the hand-made seeds of the structured fuzz targets (output,
selector, annotate, gadget_image) into fuzz/seeds/<target>/: each seed
names the case it starts the fuzzer from. Rerun after changing an input format, then minimise
(see fuzz/README.md). The other targets' seeds are real files (gadget objects,
ld.so.cache from ldconfig, runtime state) and are copied, not generated."""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# Hostile strings: what a traced process or a gadget author can put in a value.
HOSTILE = {
    "plain": b"/etc/hosts",
    "quotes": b'say "hi" \\ \'there\'',
    "newlines": b"line1\nline2\r\nline3\n",
    "trailing_newline": b"text\n",
    "controls": b"\x00\x01\x07\x08\x1b[31mred\x1b[0m\x7f",
    "invalid_utf8": b"\xff\xfe\xc3\x28\xe2\x82\xed\xa0\x80\xf4\x90\x80\x80",
    "line_separators": "a\u2028b\u2029c\u0085d\ufeff".encode(),
    "wide": "日本語のファイル名🙂".encode(),
    "yaml_scalars": b"true",
    "yaml_number": b"0x1F",
    "yaml_time": b"1:20",
    "yaml_null": b"~",
    "yaml_indicators": b"- [a, b]: {c} # d & *e !f |g >h %i @j `k",
    "spaces": b"  leading and trailing  ",
    "long_words": b" ".join([b"word%d" % i for i in range(30)]),
    "long_nospace": b"x" * 200,
    "tab_space": b"a \tb\t c",
    "empty": b"",
}


def lp(b):
    """A length-prefixed string of the output target (one length byte)."""
    b = b[:255]
    return bytes([len(b)]) + b


# Key indexes of fuzz_output.c's ann_keys table.
KEYS = {k: i for i, k in enumerate([
    "columns.width", "columns.minwidth", "columns.maxwidth", "columns.alias", "columns.alignment",
    "columns.ellipsis", "columns.hex", "columns.precision", "columns.replace", "columns.fixed",
    "columns.hidden", "json.skip", "columns.minWidth", "columns.maxWidth", "description"])}

# Field indexes in the DataSource the output target builds.
FIELDS = {k: i for i, k in enumerate([
    "proc", "pid", "comm", "name", "i8", "u8", "i16", "u16", "i32", "u32", "i64", "u64", "f32",
    "f64", "flag", "arr", "str", "hostile", "group", "c", "blob", "floats"])}


def raw_event(pid=42, comm=b"bash", name=b"hello", ints=(-128, 255, -32768, 65535, -2**31, 2**32 - 1,
              -2**63, 2**64 - 1), f32=0.1, f64=1e21, flag=1, arr=(1, -2, 3)):
    """struct raw_event of fuzz_output.c (natural alignment, x86-64/arm64)."""
    b = struct.pack("@I16s24sbBhHiIqQfdB", pid, comm, name, *ints, f32, f64, flag)
    b = b.ljust(100, b"\0") + struct.pack("@3i", *arr)  # arr at offset 100
    assert len(b) == 112
    return b


def output_seed(flags, term, hostile_name, value, cstr, blob, sel, raw, anns):
    b = bytes([flags]) + struct.pack(">H", term)
    b += lp(hostile_name) + lp(value) + lp(cstr) + lp(blob) + lp(sel) + raw
    for field, key, val in anns:
        b += bytes([FIELDS[field], KEYS[key]]) + lp(val)
    return b


def write(target, name, data):
    d = os.path.join(HERE, "seeds", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def output_seeds():
    nan = struct.unpack("<d", b"\0\0\0\0\0\0\xf8\x7f")[0]
    for name, v in HOSTILE.items():
        write("output", "value_" + name,
              output_seed(1 if len(v) % 2 else 0, 0, b"hostile", v, v, v, b"", raw_event(), []))
    write("output", "regress_columns_header_escape",
          output_seed(0, 0, b'k"e\\y\n\x1b\xff: - &x', b"v", b"c", b"", b"", raw_event(), []))
    write("output", "names_unicode", output_seed(1, 0, "ключ".encode(), "значение".encode(), b"", b"", b"",
                                                 raw_event(), []))
    write("output", "numbers_nan_inf",
          output_seed(0, 0, b"h", b"x", b"", b"", b"", raw_event(f32=float("inf"), f64=nan, flag=2), []))
    write("output", "numbers_tiny", output_seed(1, 0, b"h", b"x", b"", b"", b"",
                                                raw_event(f32=1e-7, f64=-0.0, ints=(0,) * 8), []))
    write("output", "cstring_unterminated",
          output_seed(0, 0, b"h", b"x", b"", b"", b"", raw_event(comm=b"A" * 16, name=b"\xe2\x82" * 12), []))
    cols = [("str", "columns.width", b"5"), ("str", "columns.ellipsis", b"middle"),
            ("comm", "columns.alias", "命令\nname".encode()), ("u64", "columns.hex", b"true"),
            ("i64", "columns.hex", b"true"), ("f64", "columns.precision", b"9"),
            ("pid", "columns.alignment", b"right"), ("blob", "columns.hidden", b"false")]
    write("output", "columns_annotations",
          output_seed(2, 0, b"h", HOSTILE["wide"], b"", b"\x00\x01", b"str,comm,u64,i64,f64,pid,blob",
                      raw_event(), cols))
    fit = [("str", "columns.minwidth", b"3"), ("str", "columns.maxwidth", b"7"),
           ("comm", "columns.fixed", b"true"), ("name", "columns.ellipsis", b"start"),
           ("hostile", "columns.replace", b"str"), ("u8", "columns.width", b"type"),
           ("i8", "columns.width", b"bogus"), ("str", "columns.ellipsis", b"none")]
    write("output", "columns_fit", output_seed(6, 37, b"h", HOSTILE["long_words"], b"", b"", b"+hostile,-u8",
                                               raw_event(), fit))
    write("output", "json_skip", output_seed(1, 0, b"h", b"x", b"", b"", b"", raw_event(),
                                             [("group", "json.skip", b"true"), ("proc", "json.skip", b"true")]))


def gadget_image_seeds():
    """Each built-in gadget's own gadget.yaml after the byte that picks its
    object: the built-ins are embedded in the gadgets/ directory's sorted
    order (CMakeLists.txt globs it)."""
    root = os.path.join(HERE, "..", "gadgets")
    for i, name in enumerate(sorted(os.listdir(root))):
        with open(os.path.join(root, name, "gadget.yaml"), "rb") as f:
            write("gadget_image", name, bytes([i]) + f.read())
    # v0.28's dialect over trace_open and snapshot_process:
    # structs with attributes bound by tracers/snapshotters, ebpfParams
    names = sorted(os.listdir(root))
    write("gadget_image", "legacy_v028_tracer", bytes([names.index("trace_open")]) + b"""name: trace open
tracers:
  open: {mapName: events, structName: event}
structs:
  event:
    fields:
    - name: timestamp_raw
      attributes: {template: timestamp}
    - name: fname
      description: File name
      attributes: {width: 32, minWidth: 24, maxWidth: 0, alignment: left, ellipsis: start, hidden: false}
    - name: fd
      attributes: {hidden: true}
ebpfParams:
  targ_failed: {key: failed, defaultValue: "false", description: Only failures}
""")
    write("gadget_image", "legacy_v028_snapshotter", bytes([names.index("snapshot_process")]) + b"""snapshotters:
  processes: {structName: gadget_process}
structs:
  gadget_process:
    fields:
    - {name: comm, attributes: {template: comm, width: 20}}
    - {name: pid, annotations: {columns.alignment: right}}
""")


def selector_seeds():
    cases = {
        "names": "web,!db,  api \n\n\n\n\nweb\nns\npod\nctr\n",
        "excludes_only": "!a,!b\n!kube-system\n!p\n!c\n\nb\nkube-system\np\nc\n",
        "labels": "\n\n\n\napp=web,tier!=db, !env=prod ,k==v,present=,absent!=\nc\nns\np\nk\n"
                  "app=web\ntier=front\nk=v\npresent=1\n",
        "labels_bad": "\n\n\n\n=x,a=b=c,!=,!\nc\n",
        "blank_entries": ",,a,, ,\n , \n,\n\n , ,\nx\n",
        "empty_container": "a\nb\nc\nd\ne=f\n",
    }
    for name, text in cases.items():
        write("selector", name, text.encode())


def annotate_seeds():
    cases = {
        "field_width": "\n\nopen.fname:columns.width=30",
        "hidden_alias": "columns\n\nopen.fname:columns.hidden=true, open.proc.comm:columns.alias=cmd",
        "case_keys": "\n\nopen.secret:Columns.Hidden=false,open.fname:COLUMNS.WIDTH=12",
        "template": "\nproc.comm,fname,count\nopen.fname:template=timestamp,open.count:template=comm",
        "ds_escapes": "json\n\nopen:cli.clear-screen-before=true,open:my.list=a\\,b\\,c,open.fname:description=x=y:z",
        "empty_entries": "yaml\n\n , open:k=v ,,",
        "unknown": "\n\nnope:k=v,open.nope:k=v,open:=v,:k=v,open.:k=v",
        "per_ds_output": "open:jsonpretty,other:yaml\n\nopen.count:columns.hex=true",
        "columns_everything": "columns\n+secret,-count\nopen.fname:columns.ellipsis=middle,"
                              "open.fname:columns.maxwidth=9,open.secret:columns.alignment=right,"
                              "open.count:columns.hex=true,open.count:columns.width=type,"
                              "open.fname:columns.replace=proc.comm",
    }
    for name, text in cases.items():
        write("annotate", name, text.encode())


def dns_name(text, ptr=None):
    """Labels of text, then the root or a compression pointer."""
    b = b"".join(bytes([len(l)]) + l.encode() for l in text.split(".") if l)
    return b + (struct.pack(">H", 0xC000 | ptr) if ptr is not None else b"\0")


def dns_rr(name, rtype, rdata, ttl=60):
    return name + struct.pack(">HHIH", rtype, 1, ttl, len(rdata)) + rdata


def dns_message_seeds():
    def msg(ident, bits, qs=(), an=(), ns=(), ar=()):
        b = struct.pack(">HHHHHH", ident, bits, len(qs), len(an), len(ns), len(ar))
        return b + b"".join(qs) + b"".join(an) + b"".join(ns) + b"".join(ar)

    def q(name, qtype):
        return dns_name(name) + struct.pack(">HH", qtype, 1)

    opt = b"\0" + struct.pack(">HHIH", 41, 1232, 0, 6) + struct.pack(">HHH", 10, 2, 0xABCD)
    soa = dns_name("ns.example") + dns_name("hostmaster.example") + struct.pack(">5I", 1, 2, 3, 4, 5)
    cases = {
        "query_a": msg(0xBEEF, 0x0100, [q("www.example.com", 1)]),
        "query_aaaa_edns": msg(7, 0x0120, [q("example.org", 28)], ar=[opt]),
        "answer_a_aaaa": msg(0x1234, 0x8180, [q("sd.example", 1)],
                             [dns_rr(dns_name("", 12), 1, bytes([10, 1, 2, 3])),
                              dns_rr(dns_name("", 12), 28, bytes([0xFD] + [0] * 14 + [1])),
                              dns_rr(dns_name("", 12), 28, bytes([0] * 10 + [255, 255, 192, 0, 2, 1]))]),
        # www.example.com -> alias.example.com -> target.example.com -> A
        "cname_chain": msg(99, 0x8180, [q("www.example.com", 1)],
                           [dns_rr(dns_name("", 12), 5, dns_name("alias", 16)),
                            dns_rr(dns_name("", 45), 5, dns_name("target", 16)),
                            dns_rr(dns_name("", 64), 1, bytes([192, 0, 2, 7]))]),
        "nxdomain_soa": msg(4242, 0x8183, [q("nope.example", 28)], ns=[dns_rr(dns_name("", 17), 6, soa)]),
        "mx_srv_txt_ptr": msg(5, 0x8180, [q("example.net", 255)],
                              [dns_rr(dns_name("", 12), 15, struct.pack(">H", 10) + dns_name("mx", 12)),
                               dns_rr(dns_name("", 12), 33, struct.pack(">HHH", 1, 2, 443) + dns_name("srv", 12)),
                               dns_rr(dns_name("", 12), 16, b"\x05hello\x00\x03abc"),
                               dns_rr(dns_name("", 12), 12, dns_name("host.example"))]),
        "root_ns": msg(1, 0, [q("", 2)]),
        "pointer_loop": msg(1, 0) [:4] + struct.pack(">HHHH", 1, 0, 0, 0) + struct.pack(">H", 0xC00C),
        "pointer_pair": msg(1, 0)[:4] + struct.pack(">HHHH", 1, 0, 0, 0) + b"\x01a\xc0\x0f\x01b\xc0\x0c",
        "truncated_answer": msg(1, 0x8180, [q("a.b", 1)], [dns_rr(dns_name("", 12), 1, bytes([1, 2, 3, 4]))])[:-2],
        "header_only": msg(0, 0),
    }
    for name, data in cases.items():
        write("dns_message", name, data)


if __name__ == "__main__":
    which = sys.argv[1:] or ["output", "selector", "annotate", "gadget_image", "dns_message"]
    for w in which:
        globals()[w + "_seeds"]()
