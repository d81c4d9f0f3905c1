"""The Simplified Chinese catalogue is complete and compiled, and uses the dealership's own words."""

import gettext
import re
from pathlib import Path

from django.utils import translation

LOCALE = Path(__file__).resolve().parent.parent.parent / "locale" / "zh_Hans" / "LC_MESSAGES"


def po_entries():
    """(block, msgid, msgstr) for each entry after the header; multi-line strings joined."""
    text = (LOCALE / "django.po").read_text(encoding="utf-8")
    for block in text.strip().split("\n\n")[1:]:
        parts: dict[str, str] = {}
        key = None
        for line in block.splitlines():
            match = re.match(r'^(msgid|msgid_plural|msgstr(?:\[0\])?) "(.*)"$', line)
            if match:
                key = match.group(1)
                parts[key] = match.group(2)
            elif line.startswith('"') and key:
                parts[key] += line[1:-1]
        yield block, parts.get("msgid", ""), parts.get("msgstr", parts.get("msgstr[0]", ""))


def test_every_message_is_translated_and_none_is_fuzzy():
    untranslated = [msgid for _block, msgid, msgstr in po_entries() if not msgstr]
    fuzzy = [msgid for block, msgid, _msgstr in po_entries() if "#, fuzzy" in block]
    assert not untranslated, untranslated
    assert not fuzzy, fuzzy


def test_compiled_catalogue_matches_the_po_file():
    compiled = gettext.GNUTranslations(open(LOCALE / "django.mo", "rb"))  # noqa: SIM115
    po_count = sum(1 for _ in po_entries())
    assert len(compiled._catalog) - 1 == po_count  # the header is an entry too


def test_dealership_terms_from_the_glossary():
    with translation.override("zh-hans"):
        from django.utils.translation import gettext as _

        assert _("Service advisor") == "服务顾问"
        assert _("Sales consultant") == "销售顾问"
        assert _("Customer specialist") == "客户专员"
        assert _("Referral") == "转介绍"
        assert _("Secondary network") == "二级网点"
