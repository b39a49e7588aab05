"""Every string a person reads has its Chinese: the sources' marked messages against the merged zh_CN catalogues."""

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from flexsupply.kit import i18n

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted(path for path in (ROOT / "services").glob("*/flexsupply/*") if path.is_dir())
LOCALE_DIRECTORIES = [source / "locale" for source in SOURCES]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}


def marked_messages() -> dict[str, str]:
    """msgid -> where it is first marked, for every service's Python and templates (babel.cfg says how)."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    found: dict[str, str] = {}
    for source in [*SOURCES, ROOT / "libs" / "kit" / "flexsupply" / "kit"]:
        for filename, line, message, _comments, _context in extract_from_dir(
            str(source), method_map, options_map, keywords=KEYWORDS
        ):
            msgid = message[0] if isinstance(message, tuple) else message
            found.setdefault(msgid, f"{source.relative_to(ROOT)}/{filename}:{line}")
    return found


def zh_cn_entries() -> dict[str, tuple[str, bool]]:
    """msgid -> (translation, fuzzy) over every .po file of every service."""
    entries: dict[str, tuple[str, bool]] = {}
    for path in i18n.catalogue_files("zh_CN", LOCALE_DIRECTORIES):
        with path.open("rb") as po_file:
            for message in read_po(po_file, locale="zh_CN"):
                if message.id:
                    msgid = message.id if isinstance(message.id, str) else message.id[0]
                    translation = message.string if isinstance(message.string, str) else (message.string or ("",))[0]
                    entries[msgid] = (translation or "", message.fuzzy)
    return entries


def test_every_marked_message_has_a_chinese_translation() -> None:
    entries = zh_cn_entries()
    missing = [f"{where}: {msgid!r}" for msgid, where in marked_messages().items() if not entries.get(msgid, ("",))[0]]
    assert missing == [], "untranslated for zh_CN:\n" + "\n".join(missing)


def test_a_message_reads_the_same_in_every_area() -> None:
    """The areas' catalogues are merged into one: a msgid translated two ways would read as whichever merged last."""
    translations: dict[str, dict[str, str]] = {}
    for path in i18n.catalogue_files("zh_CN", LOCALE_DIRECTORIES):
        with path.open("rb") as po_file:
            for message in read_po(po_file, locale="zh_CN"):
                if message.id:
                    msgid = message.id if isinstance(message.id, str) else message.id[0]
                    text = message.string if isinstance(message.string, str) else " | ".join(message.string or ())
                    translations.setdefault(msgid, {})[str(path.relative_to(ROOT / "services"))] = text
    differing = {msgid: areas for msgid, areas in translations.items() if len(set(areas.values())) > 1}
    assert differing == {}


def test_no_catalogue_entry_is_fuzzy() -> None:
    fuzzy = [msgid for msgid, (_, is_fuzzy) in zh_cn_entries().items() if is_fuzzy]
    assert fuzzy == []


@pytest.mark.parametrize(
    "path", i18n.catalogue_files("zh_CN", LOCALE_DIRECTORIES), ids=lambda path: str(path.relative_to(ROOT / "services"))
)
def test_each_catalogue_declares_utf8_and_chinese_plurals(path: Path) -> None:
    with path.open("rb") as po_file:
        catalogue = read_po(po_file, locale="zh_CN")
    assert catalogue.charset.lower() == "utf-8"
    assert catalogue.plural_forms == "nplurals=1; plural=0;"
