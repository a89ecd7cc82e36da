"""Unreferenced code in src/ (vulture), for ./test's lint step; exit 1 when any.

Vulture reads Python only, so on top of its own view a name counts as used when:
- a template names it (``{{ doc.number }}``, ``{% task_label t %}``, ``|money``);
- Python passes it as a keyword or as a string that is a name (the ORM's
  ``filter(status=...)``, ``values("total")``, ``update_fields=["claimed_at"]``,
  ``order_by("-issue_date")``, dotted paths in settings);
- Django reads it: upper-case names in settings.py.
What a framework calls by convention and nothing above shows is listed, with the
reason, in scripts/dead_code_whitelist.py. tests/ count as users (fixtures,
factories), but findings are reported for src/ only.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

from vulture.core import Vulture

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [ROOT / "src", ROOT / "tests"]
WHITELIST = Path(__file__).resolve().parent / "dead_code_whitelist.py"
MIN_CONFIDENCE = 60
# Names frameworks call or read by convention wherever they appear.
IGNORE_NAMES = [
    # Django models, forms, apps, commands, checks, middleware, fields
    "Meta", "ordering", "constraints", "indexes", "verbose_name", "verbose_name_plural",
    "default_auto_field", "get_latest_by", "app_configs", "add_arguments", "handle",
    "Command", "help", "clean_*", "from_db_value", "get_prep_value", "to_python",
    "template_name", "redirect_authenticated_user", "urlpatterns", "Input",
    # django-ninja schemas: resolve_<field>
    "resolve_*",
    # pytest
    "pytestmark", "pytest_*",
]  # fmt: skip
IGNORE_DECORATORS = [
    "@pytest.fixture",
    # django-ninja routes (routers are named for what they serve) and Starlette's
    "@*.get",
    "@*.post",
    "@*.put",
    "@*.patch",
    "@*.delete",
    "@*.route",
    "@*.exception_handler",
    "@db_periodic_task",
    "@periodic_task",
    "@receiver",
    "@admin.register",
]
WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
NAME_STRING = re.compile(r"-?[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")


def template_words() -> set[str]:
    words: set[str] = set()
    for suffix in ("*.html", "*.txt", "*.js"):
        for path in (ROOT / "src").rglob(suffix):
            words.update(WORD.findall(path.read_text(errors="replace")))
    return words


def python_mentions() -> set[str]:
    """Keyword names and identifier-like parts of string literals in all Python files."""
    words: set[str] = set()
    for source in SOURCES:
        for path in source.rglob("*.py"):
            tree = ast.parse(path.read_text(), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.keyword) and node.arg:
                    words.update(node.arg.split("__"))
                # A string that is a name, a dotted path or a lookup ("-created_at",
                # "lines__total"); not prose: a docstring's words do not make a name used.
                elif (
                    isinstance(node, ast.Constant)
                    and isinstance(node.value, str)
                    and NAME_STRING.fullmatch(node.value)
                ):
                    for word in WORD.findall(node.value):
                        words.update(word.split("__"))
    return words


def main() -> int:
    vulture = Vulture(ignore_names=IGNORE_NAMES, ignore_decorators=IGNORE_DECORATORS)
    vulture.scavenge([str(path) for path in [*SOURCES, WHITELIST]], exclude=["*/migrations/*"])
    used = template_words() | python_mentions()
    src = str(ROOT / "src")
    found = []
    for item in vulture.get_unused_code(min_confidence=MIN_CONFIDENCE):
        path = str(item.filename)
        if not path.startswith(src) or item.name in used:
            continue
        if path.endswith("settings.py") and item.name.isupper():
            continue
        found.append(item)
    for item in found:
        print(item.get_report(add_size=False).replace(str(ROOT) + "/", ""))
    if found:
        print(
            f"{len(found)} unreferenced names: remove them, or, when a framework calls "
            "them, list them in scripts/dead_code_whitelist.py with the reason.",
            file=sys.stderr,
        )
        return 1
    print("dead code: none found")
    return 0


if __name__ == "__main__":
    sys.exit(main())
