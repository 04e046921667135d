"""The API's own words for each CreateJob field, for the editor schemas' hover text.

The text is botocore's service model for ``iot`` (each member's ``documentation``, HTML,
turned into plain text and cut to its first sentence or two). It is kept in
``iot_docs.json`` beside this module, so that ``rollouts schema`` imports no botocore;
``python -m engine.schema.servicedocs`` writes it again from the installed botocore, and a
test says when it no longer matches.

Fields are named by path: ``abortConfig.criteriaList[].failureType`` (``[]`` is "each entry").
"""

from __future__ import annotations

import html
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

DOCS_FILE = Path(__file__).with_name("iot_docs.json")

_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")
# A sentence ends at . ! or ? followed by a space and a capital or a $ (not "1.5" nor "e.g. x").
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z$])")
# A first sentence shorter than this says too little alone; the second is kept with it.
_SHORT = 90


def plain_text(doc: str) -> str:
    """HTML documentation as one line of plain text."""
    text = html.unescape(_TAG.sub(" ", doc))
    text = _SPACE.sub(" ", text).strip()
    # Tags removed around punctuation leave "the <code>x</code>." as "the x ." .
    return re.sub(r"\s+([.,;:)])", r"\1", re.sub(r"\(\s+", "(", text))


def first_sentences(text: str) -> str:
    """The first sentence, and the second too when the first is short."""
    sentences = _SENTENCE_END.split(text)
    kept = sentences[0]
    if len(kept) < _SHORT and len(sentences) > 1:
        kept += " " + sentences[1]
    return kept


def from_botocore() -> dict[str, str]:
    """Every CreateJob request member's description, by path, from the installed botocore."""
    import botocore.session  # only here: the schema command itself reads the JSON file

    model = botocore.session.get_session().get_service_model("iot")
    found: dict[str, str] = {}
    _walk(model.operation_model("CreateJob").input_shape, "", found)
    return found


def _walk(shape: Any, prefix: str, found: dict[str, str]) -> None:
    for name, member in shape.members.items():
        path = prefix + name
        if member.documentation:
            found[path] = first_sentences(plain_text(member.documentation))
        while member.type_name == "list":
            path += "[]"
            member = member.member
            if member.documentation:
                found[path] = first_sentences(plain_text(member.documentation))
        if member.type_name == "structure":
            _walk(member, path + ".", found)


def botocore_version() -> str:
    import botocore

    return str(botocore.__version__)


@cache
def descriptions() -> dict[str, str]:
    """The kept descriptions, by path (see the module docstring)."""
    data = json.loads(DOCS_FILE.read_text(encoding="utf-8"))
    return dict(data["descriptions"])


def kept_version() -> str:
    """The botocore version the kept descriptions were written from."""
    return str(json.loads(DOCS_FILE.read_text(encoding="utf-8"))["botocore"])


def write() -> None:
    data = {"botocore": botocore_version(), "descriptions": from_botocore()}
    DOCS_FILE.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n",
                         encoding="utf-8")


if __name__ == "__main__":
    write()
    print(f"wrote {DOCS_FILE}")
