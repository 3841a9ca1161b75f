#!/usr/bin/env python3
"""Writes the hand-made seeds of the structured fuzz targets (selector,
annotate) into fuzz/seeds/<target>/: each seed names the case it
starts the fuzzer from. Rerun after changing an input format, then minimise
(see fuzz/README.md). The other targets' seeds are real files (gadget objects,
ld.so.cache from ldconfig, runtime state) and are copied, not generated."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

def write(target, name, data):
    d = os.path.join(HERE, "seeds", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


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


if __name__ == "__main__":
    which = sys.argv[1:] or ["selector", "annotate"]
    for w in which:
        globals()[w + "_seeds"]()
