"""One conformance check, its verdict, and the report of a whole run of checks.

Each check either passes, fails with one line saying what to fix, or is
skipped because something it needs failed: a plugin author fixes the first
failure and reruns, instead of reading a cascade of consequences.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from ..errors import debug_enabled, one_line, print_traceback


class ConformanceError(AssertionError):
    """Raised by ``check_model``/``check_dataset``/``check_extractor``: one line per failed check.

    An ``AssertionError``, so that pytest shows it as a failed assertion in a
    plugin's own tests.
    """


class CheckFailed(Exception):
    """What a check raises to fail with a message of its own (what to fix)."""


class CheckSkipped(Exception):
    """A check that does not apply (e.g. an in-process plugin object has no module to import)."""


@dataclass
class Check:
    name: str
    status: str  # PASS, FAIL or SKIP
    detail: str = ""

    def line(self) -> str:
        return f"{self.status} {self.name}" + (f": {self.detail}" if self.detail else "")


@dataclass
class Report:
    """Every check run on one model, dataset or extractor."""

    subject: str
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(check.status != "FAIL" for check in self.checks)

    @property
    def failures(self) -> list[Check]:
        return [check for check in self.checks if check.status == "FAIL"]

    def lines(self) -> list[str]:
        return [check.line() for check in self.checks]

    def raise_for_failures(self) -> Report:
        if not self.ok:
            lines = "\n".join(check.line() for check in self.failures)
            raise ConformanceError(f"{self.subject}: {len(self.failures)} check(s) failed\n{lines}")
        return self

    def run(self, name: str, check: Callable[[], str | None], needs: tuple[str, ...] = ()) -> bool:
        """Run ``check`` as ``name`` unless a check it ``needs`` did not pass; True if it passed."""
        status = {c.name: c.status for c in self.checks}
        missing = [need for need in needs if status.get(need) != "PASS"]
        if missing:
            self.checks.append(Check(name, "SKIP", f"needs {', '.join(missing)} to pass first"))
            return False
        with self._verdict(name) as verdict:
            verdict.detail = check() or ""
        return self.checks[-1].status == "PASS"

    @contextlib.contextmanager
    def _verdict(self, name: str) -> Iterator[Check]:
        verdict = Check(name, "PASS")
        try:
            yield verdict
        except CheckSkipped as exc:
            verdict.status, verdict.detail = "SKIP", str(exc)
        except CheckFailed as exc:
            verdict.status, verdict.detail = "FAIL", " ".join(str(exc).split())
        except Exception as exc:  # the plugin's own error, whatever its type, is the finding
            if debug_enabled():
                print_traceback(exc)
            verdict.status, verdict.detail = "FAIL", one_line(exc)
        self.checks.append(verdict)


def fail(message: str) -> None:
    raise CheckFailed(message)
